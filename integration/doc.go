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
