// Package benchkit is the measuring part of the stratabench harness and the
// demo: it runs the subjects of a workload in alternating order over several
// rounds, keeps the median of each, computes same-run ratios, and renders
// the results as an aligned terminal table, a JSON file and a chart.
//
// # Why same-run ratios
//
// The machines Strata is developed on are small and shared, so an absolute
// ns/op from one run says little about the next. Every workload therefore
// measures Strata and its baselines in the same process, interleaved round
// by round (A B C, then C B A, ...), and reports medians and the ratio of
// Strata's median to each baseline's. Only those ratios are meant to be
// compared across runs.
//
// # Results
//
// A [Result] is one row: a subject measured in a workload, compared to one
// baseline. Ratio is always the subject's ns/op divided by the baseline's
// (below 1: the subject is faster). A baseline's own row names itself as
// its baseline, with ratio 1, so that its absolute numbers are in the file
// too. Workloads that count something instead of timing it (hit ratios,
// queries reaching PostgreSQL during a stampede) carry the count in the
// optional fields of the row; their Ratio is still one of time per
// operation (for hit ratios, of replaying the stream), which [ResultsTable]
// leaves out and [SummaryTable] replaces with the two hit ratios.
//
// The pure parts (medians, percentiles, ratios, the Zipf key stream, the
// JSON shape, the table layout) are unit tested; the timing loop needs only
// the functions it is given.
package benchkit
