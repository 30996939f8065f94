package l2redis

import "strconv"

// KeyRoot is the first segment of every key Strata writes. The second
// segment tells the key spaces apart:
//
//	strata:{prefix}:{id}                   a cached record ([Key])
//	strata:#gen:{namespace}                a generation counter
//	strata:#q:{namespace}:{gen}:{query}    a cached result set
//
// The package's own key spaces start with [ReservedMark], which a record
// prefix must not contain (the composing module allows only ASCII letters,
// digits and underscores), so no record key can equal, or be deleted along
// with, an internal key; and since a prefix holds no ':',
// [Store.DeletePrefix] of one prefix never reaches another's keys.
const KeyRoot = "strata"

// ReservedMark starts the second segment of the package's own key spaces
// (generation counters and result sets). Record prefixes must not contain
// it.
const ReservedMark = "#"

// Key returns the key of record id under prefix: "strata:{prefix}:{id}",
// the layout the composing module uses for cached records (prefix is the
// schema's key prefix or name; it must not contain [ReservedMark] or ':').
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
