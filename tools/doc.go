// Package tools holds Strata's developer programs: the local server stack
// (cmd/devstack), the end-to-end demo (cmd/demo), the benchmark harness
// (cmd/stratabench, built on benchkit), the in-process cache comparison
// (l1bench), and the release tooling (modset, cmd/modset: make
// install-check and make release). The strata command users install,
// cmd/strata, is a module of its own nested here.
//
// It is its own module so that command-line, plotting and peer-library
// dependencies never reach the library modules.
package tools
