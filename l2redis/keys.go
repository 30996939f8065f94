package l2redis

import "strconv"

// KeyRoot is the first segment of every key Strata writes.
const KeyRoot = "strata"

// Key returns the key of record id under prefix: "strata:{prefix}:{id}",
// the layout the composing module uses for cached records (prefix is the
// schema's key prefix or name).
func Key(prefix, id string) string {
	return KeyRoot + ":" + prefix + ":" + id
}

// KeyPrefix returns what every [Key] of prefix starts with, for
// [Store.DeletePrefix].
func KeyPrefix(prefix string) string {
	return KeyRoot + ":" + prefix + ":"
}

func (s *Store) generationKey(namespace string) string {
	return s.opt.GenerationPrefix + namespace
}

func (s *Store) resultKey(namespace string, gen uint64, query string) string {
	return s.opt.ResultPrefix + namespace + ":" + strconv.FormatUint(gen, 10) + ":" + query
}
