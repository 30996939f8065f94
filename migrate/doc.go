// Package migrate evolves a PostgreSQL schema without ever destroying data.
//
// It has two halves. The first turns neutral table descriptions into
// additive DDL: tables are created when missing, new columns are added and
// indexes are created, but nothing is dropped or renamed, and a column whose
// type or nullability no longer matches its description is reported as an
// error. The second applies numbered SQL files read from any fs.FS (so
// //go:embed works) under an advisory lock, recording each in a history table.
//
// The engine is being built under its own issue; until then this package
// holds only this overview.
package migrate
