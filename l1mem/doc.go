// Package l1mem is Strata's first tier: a generic, sharded, in-process cache.
//
// It is also meant to be used on its own. The module's non-test code imports
// only the Go standard library, so a program that wants a fast sharded cache
// with TTLs, eviction policies and per-key single-flight loading can depend on
// l1mem without pulling in Redis, PostgreSQL or any other third-party module.
//
// The cache itself is being built under its own issue; until then this
// package holds only this overview.
package l1mem
