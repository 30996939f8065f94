// Package rediskit is the Redis part of Strata's server-test kit (see
// package testkit for the contract): clients of the test server, key
// prefixes removed when a test ends, and redis-server processes of a
// test's own — plain servers it may stop, kill, freeze and restart in
// place (Freeze and Kill reach every process the server forked), servers
// with the caller's own arguments (StartWith: a unix socket, TLS, a
// password), a master with a Sentinel, and a three-master Redis Cluster.
// Every helper is gated by testkit.RedisAddr: without STRATA_REDIS_ADDR
// the test is skipped, or fails under STRATA_REQUIRE_SERVERS=1. The
// launchers without a testing.TB (Launch, Daemon — the devstack's server,
// which outlives its starter) are for code that decides for itself, like
// the fault suite and tools/devstack.
package rediskit
