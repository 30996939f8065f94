// Package testenv finds the PostgreSQL and Redis servers for the strata
// module's tests that need them.
//
// They come from STRATA_POSTGRES_DSN and STRATA_REDIS_ADDR, which `make test`
// sets after starting the local stack. Without them a test is skipped with a
// message saying how to start the stack, unless STRATA_REQUIRE_SERVERS=1, in
// which case it fails.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
)

const howTo = "run `make test`, or `make stack-up` and export the variables in .devstack/env"

func need(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if os.Getenv("STRATA_REQUIRE_SERVERS") == "1" {
		t.Fatalf("%s is unset and STRATA_REQUIRE_SERVERS=1: %s", name, howTo)
	}
	t.Skipf("%s is unset: %s", name, howTo)
	return ""
}

// PostgresDSN returns the test PostgreSQL server's DSN.
func PostgresDSN(t testing.TB) string { t.Helper(); return need(t, "STRATA_POSTGRES_DSN") }

// RedisAddr returns the test Redis server's host:port.
func RedisAddr(t testing.TB) string { t.Helper(); return need(t, "STRATA_REDIS_ADDR") }

// Suffix returns a random lowercase hex string for unique table names, key
// prefixes and channels.
func Suffix() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
