// Package strata puts an in-process cache (L1), Redis (L2) and PostgreSQL (L3)
// behind one API.
//
// A program registers a tagged struct once and then reads and writes records
// by id; Strata fills the faster tiers on a miss, writes through (or behind)
// to the slower ones, and broadcasts invalidations so that every instance of a
// service converges on the value held by the source of truth.
//
// The DataStore is being built under its own issue; until then this package
// holds only this overview. The tiers it composes live in the sibling modules
// codec, l1mem, l2redis, l3postgres and migrate.
package strata
