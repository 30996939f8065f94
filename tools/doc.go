// Package tools holds Strata's developer programs: the local server stack
// (cmd/devstack), and later the demo and the benchmark harness.
//
// It is its own module so that command-line and benchmarking dependencies
// never reach the library modules.
package tools
