// Package integration holds Strata's end-to-end tests, which run against real
// PostgreSQL and Redis servers.
//
// The servers are found by the harness subpackage: from the environment
// variables STRATA_POSTGRES_DSN and STRATA_REDIS_ADDR (which `make test` sets
// after starting the local stack), else from containers started with
// dockertest when a Docker engine answers. With neither, the tests skip and
// say how to start the stack, unless STRATA_REQUIRE_SERVERS=1 is set, in which
// case a missing server fails the run.
//
// The cross-tier suites drive Strata through its exported API: two
// instances converging through the invalidation bus on a single Redis, a
// Redis Cluster and a Sentinel set-up (TestTwoInstances*); a Redis outage
// seen by two instances and a write-behind store riding out a PostgreSQL
// outage (strata_outage_test.go); a schema read from a real streaming
// replica. The suites that stop, kill or replicate a server start their
// own from the repository's test kit (testkit/pgkit, testkit/rediskit),
// which needs the local binaries that `make stack-up` installs; the others
// take the harness's servers. White-box tests that look inside a DataStore
// stay in the strata module.
//
// The fault suite lives in the chaos subpackage: TestChaosShort (part of
// `make test`) and TestChaosLong (`make chaos`) start a PostgreSQL and a
// Redis of their own, drive four Strata instances — one in a child process
// that this test binary becomes when chaos.IsChild — through faults, and
// check the recorded history (see package chaos).
//
// The module is separate so that its heavy dependencies (dockertest and the
// Docker client, porcupine, gonum/plot) never reach the library modules'
// go.mod files.
package integration
