// Package testenv gives the strata module's tests their servers through
// the repository's server-test kit (module testkit): the devstack servers
// named by STRATA_POSTGRES_DSN and STRATA_REDIS_ADDR, servers of a test's
// own that it may stop, freeze and restart, a Sentinel set-up, change-feed
// slots, and a proxy that makes a server look frozen to one client.
// Without the variables a test is skipped with a message saying how to
// start the stack, unless STRATA_REQUIRE_SERVERS=1, in which case it fails
// (testkit's contract).
package testenv

import (
	"testing"

	"github.com/AndrewDonelson/strata/testkit"
)

// PostgresDSN returns the test PostgreSQL server's DSN.
func PostgresDSN(t testing.TB) string { t.Helper(); return testkit.PostgresDSN(t) }

// RedisAddr returns the test Redis server's host:port.
func RedisAddr(t testing.TB) string { t.Helper(); return testkit.RedisAddr(t) }

// Suffix returns a random lowercase hex string for unique table names, key
// prefixes and channels.
func Suffix() string { return testkit.Suffix() }
