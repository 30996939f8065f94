// Package chaos is Strata's end-to-end fault suite, in the spirit of Jepsen
// and etcd's robustness tests: it drives several DataStore instances with a
// concurrent, seeded workload while it injects faults, records the history
// of every operation and checks it.
//
// # A run
//
// [Run] uses a PostgreSQL and a Redis of its own ([StartServers], on the
// test kit's launchers: never the shared devstack, since it freezes, kills
// and restarts them) and starts four instances: a, b and l in this
// process, and c1 in a child process — the test binary executed again with
// [EnvChild] set, which [ChildMain] runs — that the injector SIGKILLs in the
// middle of its writes and restarts. Every instance reaches each server
// through a [Proxy] of its own. The workload ([RunWorkload]) mixes Set,
// Delete, Tx, Get, GetMany, Search and SearchCached over a WriteThrough and a
// WriteBehind schema; 40 shared keys every writer writes, 10 keys only l
// writes, 20 write-behind keys each written by one owner (a or b). Each run
// is repeated with Config.ChangeFeed off and on.
//
// A write that returns an error is "outcome unknown", never "failed": its
// reply may be what was lost (go-redis retries, a deadline during COMMIT, a
// statement a blackhole delivered late), so it may take effect at any time
// after its invocation, or never. Strata's Redis client honours deadlines
// (l2redis sets go-redis's ContextTimeoutEnabled, as does the suite's own
// client).
//
// # Faults
//
// One at a time, drawn from a seeded, shuffled deck ([FaultKinds]): latency,
// blackhole, reset and slow close on one instance's link to PostgreSQL or to
// Redis; SIGSTOP/SIGCONT and SIGKILL + restart of either server (the whole
// PostgreSQL process group; Redis restarts empty); FLUSHALL; CLIENT KILL of
// the subscribers; SIGKILL of the child writer. (A server's signals reach
// every process it forked: PostgreSQL's backends leave its process group.)
// Once the workload has stopped, instance a's link to PostgreSQL is
// blackholed while a sets five shared keys the others have cached, with a
// deadline that fails every call; the statements run when the link heals
// and nothing writes those keys again, so the convergence check sees
// whether writes that failed after PostgreSQL was sent them were
// invalidated (the workload's hot keys hide that: the next acknowledged
// write invalidates within the calm bound). Before shutdown, PostgreSQL is
// restarted once more while write-behind writes are pending, so Close must
// flush them through a pool of dead connections.
//
// # Checks
//
//   - [CheckReads]: every read, GetMany and Search element by element,
//     returns a value current at some instant within [invoke − bound,
//     complete]; [Bounds] states the bound for each case, [DefaultBounds]
//     the figures. Staleness is reported as a distribution.
//   - [CheckLost]: no acknowledged write is lost — PostgreSQL ends with each
//     key's last acknowledged value or a later one.
//   - Convergence: once faults are healed and the workload has stopped,
//     Redis's copy of every key, and what every instance's Get and
//     SearchCached return, equal PostgreSQL within [Settle].
//   - [CheckLinearizable]: instance l's history of its own keys (Get,
//     GetMany, Set, Delete) is linearizable, checked with porcupine v1.3.1
//     as one register per key. porcupine's Unknown is a failure, never a
//     pass. The same check with l's Search and SearchCached results is
//     reported and not gated: those read PostgreSQL (or a result set cached
//     under the search generation), so between a write's commit and its own
//     invalidation a Search can return the new value and a later Get the old
//     one from L1 — Strata does not promise linearizable reads (README).
//
// # Network faults: an in-process proxy of our own
//
// The suite uses its own ~250-line proxy rather than toxiproxy v2.12.0:
// toxiproxy would add about fifteen compiled modules (a Prometheus client,
// protobuf, zerolog, …) for four faults, its reset_peer toxic only resets
// connections opened after the toxic was added, and its timeout toxic drops
// what it holds, whereas the faults that matter here are a true reset of the
// connections a pool already holds and a partition that delivers late what a
// caller gave up on — a statement that runs after its Set returned a
// timeout.
//
// # Two lengths
//
// TestChaosShort (the integration module) runs 10 s per mode in `make test`;
// TestChaosLong runs under `make chaos` (CHAOS_DURATION, default 10m, split
// over CHAOS_SEEDS × change feed off/on) and writes a JSON report
// ([LongReport]) and a staleness chart per run ([WriteChart]). CHAOS_SEED
// replays the short form with another seed.
package chaos
