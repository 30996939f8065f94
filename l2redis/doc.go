// Package l2redis is Strata's second tier: a Redis layer that stores
// already-encoded bytes under string keys and gives a composing layer the
// primitives it needs to stay consistent across processes.
//
// It knows nothing about schemas or Go structs, and it works with any
// redis.UniversalClient from go-redis v9: standalone (*redis.Client),
// Sentinel (redis.NewFailoverClient) and Cluster (*redis.ClusterClient). The
// tests run every operation on all three, against real redis-server
// processes.
//
// # Construction
//
// [New] takes a client the caller owns plus *[Options] (nil means defaults);
// [Open] builds the client from a [Config] (address, password, DB, pool
// settings) and owns it. Neither contacts Redis; [Store.Ping] does. A [Bus]
// is built separately with [NewBus], usually on the same client.
//
// # Keys and values
//
// Records live under [Key](prefix, id) = "strata:{prefix}:{id}"; the
// package's own keys (generation counters, cached result sets) live under
// "strata:#gen:" and "strata:#q:", which no record prefix can reach (see
// [KeyRoot] for the layout). [Store.Get]
// is one GET; [Store.MGet] reads only the keys asked, with one MGET on a
// standalone server and one MGET per hash slot, all in a single pipeline, on
// a cluster. [Store.Set] is one SET; [Store.SetMany] is one pipeline.
// [Store.Delete] and [Store.DeleteMany] use UNLINK; [Store.DeletePrefix]
// walks the keyspace with SCAN and UNLINKs page by page, on every master of
// a cluster; [Store.DeleteIfValue] deletes a key only while it holds a
// given value. [Store.Exists] and [Store.TTL] inspect one key.
//
// Every key written carries a TTL: a zero TTL means [Options.DefaultTTL]
// (30 minutes unless set), [Options.TTLJitter] spreads expiries, and a key
// without expiry must be asked for with [NoExpiry]. The one exception is the
// generation counters below, which this package writes without a TTL on
// purpose.
//
// # Errors
//
// A miss is [ErrNotFound] (redis.Nil never escapes). A server that does not
// answer gives an error wrapping both [ErrUnavailable] and the cause. Bad
// input gives [ErrEmptyKey], [ErrInvalidTTL], [ErrReservedValue] and the
// like. The caller's own context ending is returned as the context's error.
//
// After [Options.BreakerFailures] unavailable results in a row a circuit
// breaker fails calls at once, with [ErrBreakerOpen] as well as
// [ErrUnavailable], so that a Redis that is down costs one timeout per
// [Options.BreakerCooldown] instead of one per call. After the cool-down one
// probe call goes through; success closes the breaker.
//
// # Stale-set protection: fill leases
//
// A reader that misses must not overwrite, with the old row it loaded from
// the database, a newer value a writer stored meanwhile. [Store.GetOrLease]
// returns the value on a hit and otherwise grants a [Lease] (as in "Scaling
// Memcache at Facebook"): the key then holds a small marker value with
// [Options.LeaseTTL] as its TTL, which every read treats as absent. The
// reader loads the source of truth and calls [Store.Fill], a Lua
// compare-and-set that writes only while its own marker is still in place.
// Set, SetMany, Delete, DeleteMany and DeletePrefix all replace or remove
// the marker, so any write or delete after the lease was granted voids it
// and the late fill reports false. Plain Get and Set stay single commands.
//
// Guarantee: a successful Fill is never preceded, since its lease was
// granted, by a write or delete of that key through this package. Take the
// lease before reading the source. When another reader's lease stands,
// GetOrLease returns [ErrLeaseBusy]; read the source without filling or
// retry shortly. [Store.Release] gives a lease up; [Store.Extend] gives a
// lease that still stands a full LeaseTTL again, for a filler that is slow
// but alive. A bulk loader uses
// [Store.LeaseMany] (a lease on every absent key, one pipelined SET NX each)
// and [Store.FillMany] (the same compare-and-set per key, or a release), one
// round trip each for any number of keys.
//
// What the lease does not order is two writers: if their Sets reach Redis in
// the opposite order to their database commits, the older value wins until
// its TTL. A composing layer that needs more orders its writes or deletes
// instead of setting.
//
// # Invalidation bus
//
// A [Bus] publishes [Invalidation] messages on one channel (default
// "strata:invalidate") in a compact binary format (see
// [Invalidation.MarshalBinary]): schema, ids, op, source instance id and a
// per-source sequence number that every Publish call uses up, even one that
// fails.
//
// The subscriber runs on its own goroutine and connection. It pings after
// [BusOptions.HealthCheckInterval] (1s unless set) without traffic and
// replaces a connection whose ping goes unanswered, and it subscribes again,
// with backoff, whenever the connection is lost. [Bus.Live] reports whether
// the subscription is working: it turns false as soon as a failed
// connection is noticed — at once for a closed or reset one, within
// 2 × HealthCheckInterval of the last reply for one that went silent — and
// true again only after a new subscription's OnResubscribe has returned. A
// cache kept coherent by the bus trusts its entries only while Live is true. Redis pub/sub drops whatever is published
// while a subscriber is away, so after Redis acknowledges each subscription
// — the first and every later one — the Bus calls
// [BusOptions.OnResubscribe]; a caching layer drops all it holds there. It
// calls it too when a source's sequence number skips ([SequenceGap]) and
// when a message cannot be decoded ([Unreadable]). Callbacks run on the
// subscriber goroutine, so no message received after an acknowledgement is
// delivered before the callback for it returns.
//
// # Generations for cached query results
//
// [Store.BumpGeneration] increments a per-namespace counter; result sets
// are stored by [Store.SetResult] under keys that embed the generation, so
// one INCR makes every cached result of the namespace unreachable. Read the
// generation with [Store.GetResult] (or [Store.Generation]) before running
// the query and store the result under that generation: a write that bumps
// the counter meanwhile makes the late result unreachable rather than stale.
// A counter that is lost (flushed or evicted) is recreated at the current
// time in microseconds, above any value it can have reached, so old results
// never become reachable again.
//
// # Cluster notes
//
// Multi-key commands are split by hash slot. Lease markers live in the key
// itself, so the fill script touches one key and works on any slot. The bus
// uses classic PUBLISH/SUBSCRIBE, which Redis Cluster broadcasts to every
// node; Publish sends to the master of the channel's slot, where cluster
// subscribers listen, so one instance's messages stay in order.
//
// # Testing
//
// Tests that need Redis read STRATA_REDIS_ADDR (set by `make test`, or by
// `go run ./tools/cmd/devstack up`); without it they skip, and under
// STRATA_REQUIRE_SERVERS=1 they fail instead. With it, the tests also start
// their own redis-server processes on free loopback ports: a three-master
// Redis Cluster, a master with a Sentinel, and private servers for the tests
// that kill connections or stop the server, so the shared devstack server
// is never disrupted. Every test uses its own key prefix and channel.
package l2redis
