package testkit

import (
	"errors"
	"fmt"
	"os"
	"testing"
)

// The environment variables of the contract.
const (
	// EnvPostgresDSN names the test PostgreSQL server's connection string.
	EnvPostgresDSN = "STRATA_POSTGRES_DSN"
	// EnvRedisAddr names the test Redis server's host:port.
	EnvRedisAddr = "STRATA_REDIS_ADDR"
	// EnvRequireServers, set to 1, turns a missing server into a failure.
	EnvRequireServers = "STRATA_REQUIRE_SERVERS"
)

// HowToStart says how to provide the servers; every skip or failure
// message for a missing server ends with it.
const HowToStart = "run `make test` (it starts a local PostgreSQL and Redis), or `make stack-up` " +
	"at the repository root and export the variables it writes: `set -a; . .devstack/env; set +a`"

// ErrNoServer means no server was announced (and no fallback started one)
// while STRATA_REQUIRE_SERVERS=1.
var ErrNoServer = errors.New("testkit: no server available")

// Required reports whether STRATA_REQUIRE_SERVERS=1.
func Required() bool { return os.Getenv(EnvRequireServers) == "1" }

// Unavailable skips tb with msg, or fails it when STRATA_REQUIRE_SERVERS=1.
// msg says what is missing; Unavailable adds how to start the servers.
func Unavailable(tb testing.TB, msg string) {
	tb.Helper()
	_, skip, err := decide(msg, os.Getenv)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Skip(skip)
}

// Need returns the value of the environment variable name, which
// announces a server; unset, tb is skipped or failed as [Unavailable] does.
func Need(tb testing.TB, name string) string {
	tb.Helper()
	v, skip, err := Resolve(Source{Name: name, Env: name}, os.Getenv)
	if err != nil {
		tb.Fatal(err)
	}
	if skip != "" {
		tb.Skip(skip)
	}
	return v
}

// PostgresDSN returns STRATA_POSTGRES_DSN, or skips (fails) tb.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	return Need(tb, EnvPostgresDSN)
}

// RedisAddr returns STRATA_REDIS_ADDR, or skips (fails) tb.
func RedisAddr(tb testing.TB) string {
	tb.Helper()
	return Need(tb, EnvRedisAddr)
}

// Source says where one kind of server is announced, and how else one may
// be started.
type Source struct {
	// Name is what the messages call the server: "PostgreSQL", "Redis".
	Name string
	// Env is the variable that announces a running server.
	Env string
	// Fallback starts a server when Env is unset (the integration module
	// passes its dockertest launcher); nil tries nothing else.
	Fallback func() (string, error)
	// FallbackName names the fallback in messages ("dockertest").
	FallbackName string
}

// Resolve decides where a server comes from: the variable src.Env when
// set, else src.Fallback when it succeeds. Otherwise it returns a skip
// message, or — when getenv(STRATA_REQUIRE_SERVERS) is "1" — an error
// wrapping [ErrNoServer]. Both say what is missing and how to start the
// servers.
func Resolve(src Source, getenv func(string) string) (addr, skip string, err error) {
	if v := getenv(src.Env); v != "" {
		return v, "", nil
	}
	why := src.Env + " is unset"
	if src.Fallback != nil {
		a, ferr := src.Fallback()
		if ferr == nil {
			return a, "", nil
		}
		name := src.FallbackName
		if name == "" {
			name = "the fallback"
		}
		why += fmt.Sprintf(" and %s could not start one (%v)", name, ferr)
	}
	msg := why
	if src.Name != "" && src.Name != src.Env {
		msg = fmt.Sprintf("no %s server: %s", src.Name, why)
	}
	return decide(msg, getenv)
}

// decide turns "what is missing" into a skip message or, under
// STRATA_REQUIRE_SERVERS=1, an error.
func decide(msg string, getenv func(string) string) (addr, skip string, err error) {
	msg += "; " + HowToStart
	if getenv(EnvRequireServers) == "1" {
		return "", "", fmt.Errorf("%w: %s (%s=1 makes this a failure)", ErrNoServer, msg, EnvRequireServers)
	}
	return "", msg, nil
}
