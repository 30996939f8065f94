// Package l3postgres is Strata's third tier and usual source of truth: the
// PostgreSQL layer, built on pgx v5 and pgxpool.
//
// It operates on a neutral description of a table (columns, types, keys,
// indexes) rather than on Go structs, so it has no knowledge of Strata's
// struct tags. Every identifier is checked against that description and
// quoted; every value travels as a query parameter.
//
// The API is being built under its own issue; until then this package holds
// only this overview.
package l3postgres
