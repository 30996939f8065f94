// Package tools holds Strata's developer programs: the local server stack
// (cmd/devstack), the end-to-end demo (cmd/demo), the benchmark harness
// (cmd/stratabench, built on benchkit) and the in-process cache comparison
// (l1bench).
//
// It is its own module so that command-line, plotting and peer-library
// dependencies never reach the library modules.
package tools
