// Package l2redis is Strata's second tier: the Redis layer.
//
// It stores already-encoded bytes under string keys and knows nothing about
// schemas or Go structs. Besides plain reads and writes it provides the
// primitives a composing layer needs to stay consistent across processes:
// fills that cannot overwrite a newer value (stale-set protection), a
// publish/subscribe invalidation bus that reports every (re)subscription, and
// per-namespace generation counters for cached query results.
//
// It works with any redis.UniversalClient from go-redis v9, so standalone,
// Sentinel and Cluster deployments are all supported.
//
// The API is being built under its own issue; until then this package holds
// only this overview.
package l2redis
