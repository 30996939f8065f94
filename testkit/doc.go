// Package testkit is Strata's one server-test kit: the skip-or-fail
// contract that every test needing PostgreSQL or Redis follows, free
// loopback ports (below the ephemeral range, so a server restarted in place
// gets its port back), random name suffixes, the PostgreSQL cluster
// launcher (initdb + pg_ctl) that the tests, the fault suite and
// tools/devstack use, the devstack's redis-server daemon ([RedisDaemon],
// with a PING that needs no client library, so that devstack compiles no
// go-redis), and signals to a server's whole process tree
// ([SignalTree], [KillTree]: PostgreSQL's backends leave the postmaster's
// session, so freezing or killing a server means reaching each of them).
// Package pgkit adds what needs pgx (throw-away servers, streaming
// replicas, replication-slot hygiene, schemas and pools); the module
// testkit/rediskit adds what needs go-redis (private redis-server
// processes, Sentinel, Cluster, key prefixes).
//
// # The contract
//
// A test that needs a server asks for it with [PostgresDSN] or
// [RedisAddr] (or [Need] for any variable). The servers come from
// STRATA_POSTGRES_DSN and STRATA_REDIS_ADDR, which `make test` sets after
// starting the local stack. Without them the test is skipped with a message
// saying how to start the stack — unless STRATA_REQUIRE_SERVERS=1 (as
// `make test` sets), where it fails, so a run meant to reach real servers
// can never pass without them. [Resolve] is the same decision as a pure
// function, with an optional fallback (the integration module passes its
// dockertest launcher).
//
// # Why a module
//
// The kit is a module of its own (like pgx's test set-up packages) rather
// than copies kept in sync by a generator: there is one source to read and
// fix, the skip-or-fail contract is written once, and a tier module takes
// only what it imports. It is two modules, testkit (standard library +
// pgx, like l3postgres and migrate) and testkit/rediskit (go-redis, like
// l2redis), so requiring the kit never adds a third-party module a tier
// module did not already use. (It was also for the Go versions the drivers
// declare, 1.25 and 1.26; every module now requires the x/ versions the
// workspace selects, which declare 1.26, so both are go 1.26 like the
// tiers that use them.) Docker support stays in
// the integration module. The kit is released with the other modules (a
// tier module's go.mod names it), but no library code imports it.
package testkit
