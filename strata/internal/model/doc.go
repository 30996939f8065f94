// Package model is what Strata knows about a registered struct type, with
// no I/O: the strata tags read into a Model (columns, SQL types, defaults,
// tag options), which fields each tier holds (View), deep copies of model
// values, the naming rules, and the table definitions handed to l3postgres
// and migrate. Package strata builds its per-schema state on it.
package model
