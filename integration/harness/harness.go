package harness

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

// Environment variables the harness reads.
const (
	EnvPostgresDSN    = "STRATA_POSTGRES_DSN"
	EnvRedisAddr      = "STRATA_REDIS_ADDR"
	EnvRequireServers = "STRATA_REQUIRE_SERVERS"
)

// ErrNoServer means neither the environment nor Docker provided a server.
var ErrNoServer = errors.New("harness: no server available")

// howToStart is appended to every skip or failure message.
const howToStart = "run `make test` (it starts a local PostgreSQL and Redis), or `make stack-up` and export the variables in .devstack/env"

// source describes how one kind of server is found.
type source struct {
	name   string                 // "PostgreSQL" or "Redis"
	envVar string                 // where a running server is announced
	docker func() (string, error) // starts a container; nil when Docker is not tried
}

// resolve decides where a server comes from. It returns the address, or a
// non-empty skip reason, or an error when the run requires servers.
func resolve(src source, getenv func(string) string) (addr, skip string, err error) {
	if v := getenv(src.envVar); v != "" {
		return v, "", nil
	}
	why := fmt.Sprintf("%s is unset", src.envVar)
	if src.docker != nil {
		a, derr := src.docker()
		if derr == nil {
			return a, "", nil
		}
		why += fmt.Sprintf(" and dockertest could not start one (%v)", derr)
	}
	msg := fmt.Sprintf("no %s server: %s; %s", src.name, why, howToStart)
	if getenv(EnvRequireServers) == "1" {
		return "", "", fmt.Errorf("%w: %s (%s=1 makes this a failure)", ErrNoServer, msg, EnvRequireServers)
	}
	return "", msg, nil
}

func need(t testing.TB, src source) string {
	t.Helper()
	addr, skip, err := resolve(src, os.Getenv)
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
	return need(t, source{name: "PostgreSQL", envVar: EnvPostgresDSN, docker: dockerOnce(&pgContainer, startPostgres)})
}

// RedisAddr returns the host:port of a Redis server, or skips (or fails,
// under STRATA_REQUIRE_SERVERS=1) the test when there is none.
func RedisAddr(t testing.TB) string {
	t.Helper()
	return need(t, source{name: "Redis", envVar: EnvRedisAddr, docker: dockerOnce(&redisContainer, startRedis)})
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
