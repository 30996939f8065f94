// Package rediskit is the Redis part of Strata's server-test kit (see
// package testkit for the contract): clients of the test server, key
// prefixes removed when a test ends, and redis-server processes of a
// test's own — plain servers it may stop, kill, freeze and restart, a
// master with a Sentinel, and a three-master Redis Cluster. Every helper
// is gated by testkit.RedisAddr: without STRATA_REDIS_ADDR the test is
// skipped, or fails under STRATA_REQUIRE_SERVERS=1.
package rediskit
