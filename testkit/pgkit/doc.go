// Package pgkit is the PostgreSQL part of Strata's server-test kit (see
// package testkit for the contract): pools on the test server, throw-away
// schemas, servers of a test's own that it may stop and start, streaming
// replicas, and replication-slot hygiene. Every helper that needs the test
// server is gated by testkit.PostgresDSN: without STRATA_POSTGRES_DSN the
// test is skipped, or fails under STRATA_REQUIRE_SERVERS=1.
package pgkit
