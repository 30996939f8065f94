package harness

import (
	"os"
	"sync"
	"testing"

	"github.com/AndrewDonelson/strata/testkit"
)

// Environment variables the harness reads (testkit's contract).
const (
	EnvPostgresDSN    = testkit.EnvPostgresDSN
	EnvRedisAddr      = testkit.EnvRedisAddr
	EnvRequireServers = testkit.EnvRequireServers
)

// ErrNoServer means neither the environment nor Docker provided a server.
var ErrNoServer = testkit.ErrNoServer

// source describes how one kind of server is found: the variable that
// announces it, and the dockertest launcher tried when it is unset.
func source(name, envVar string, docker func() (string, error)) testkit.Source {
	return testkit.Source{Name: name, Env: envVar, Fallback: docker, FallbackName: "dockertest"}
}

func need(t testing.TB, src testkit.Source) string {
	t.Helper()
	addr, skip, err := testkit.Resolve(src, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if skip != "" {
		t.Skip(skip)
	}
	return addr
}

// PostgresDSN returns a connection string for a PostgreSQL server, or skips
// (or fails, under STRATA_REQUIRE_SERVERS=1) the test when there is none.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	return need(t, source("PostgreSQL", EnvPostgresDSN, dockerOnce(&pgContainer, startPostgres)))
}

// RedisAddr returns the host:port of a Redis server, or skips (or fails,
// under STRATA_REQUIRE_SERVERS=1) the test when there is none.
func RedisAddr(t testing.TB) string {
	t.Helper()
	return need(t, source("Redis", EnvRedisAddr, dockerOnce(&redisContainer, startRedis)))
}

// Main runs the tests, then removes any container the harness started.
// Use it from TestMain: func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	purgeContainers()
	return code
}

// container memoises one dockertest start per test binary.
type container struct {
	once sync.Once
	addr string
	err  error
}

func dockerOnce(c *container, start func() (string, error)) func() (string, error) {
	return func() (string, error) {
		c.once.Do(func() { c.addr, c.err = start() })
		return c.addr, c.err
	}
}

// resolve is testkit.Resolve, named here for the tests of the choice.
var resolve = testkit.Resolve
