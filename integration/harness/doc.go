// Package harness finds the PostgreSQL and Redis servers that Strata's
// integration tests run against.
//
// # Resolution order
//
// For each server, [PostgresDSN] and [RedisAddr] use, in order:
//
//  1. the environment: STRATA_POSTGRES_DSN and STRATA_REDIS_ADDR, which
//     `make test` sets after starting the local stack (tools/cmd/devstack);
//  2. a container started with dockertest, when a Docker engine answers
//     (postgres:15-alpine with trust authentication, redis:7-alpine). The
//     containers are started once per test binary and removed by [Main];
//  3. otherwise the test is skipped with a message naming `make test` — or,
//     when STRATA_REQUIRE_SERVERS=1 (as `make test` sets), it fails, so a run
//     that was meant to reach real servers can never pass without them.
//
// Test packages that use the harness call [Main] from TestMain so that any
// container is removed when the tests end.
package harness
