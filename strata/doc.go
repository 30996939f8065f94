// Package strata puts an in-process cache (L1), Redis (L2) and PostgreSQL (L3)
// behind one API.
//
// A program registers a tagged struct once and then reads and writes records
// by id; Strata fills the faster tiers on a miss, writes through (or behind)
// to the slower ones, and broadcasts invalidations so that every instance of a
// service converges on the value held by the source of truth.
//
// The DataStore itself is still being built (it composes the tier modules
// codec, l1mem, l2redis, l3postgres and migrate). What exists so far is the
// foundation it stands on: Config with its defaults and validation, Schema
// and its policies, the error catalogue, struct-tag parsing with the Go to
// PostgreSQL type mapping, the Query builder, AES-256-GCM sealing of
// encrypted fields, and the snapshot copier that keeps L1 private.
package strata
