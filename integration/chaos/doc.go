// Package chaos is Strata's end-to-end fault suite: it drives several
// DataStore instances (some in child processes) with a concurrent, seeded
// workload while it injects faults, records the history of every operation
// and checks it.
//
// # Network faults: an in-process proxy of our own
//
// Every instance reaches each server through a [Proxy] of its own, which
// adds latency, holds bytes (blackhole), resets live connections and delays
// closes. The suite uses this ~250-line proxy rather than toxiproxy v2.12.0:
// toxiproxy would add about fifteen compiled modules (a Prometheus client,
// protobuf, zerolog, …) for four faults, its reset_peer toxic only resets
// connections opened after the toxic was added, and its timeout toxic drops
// what it holds, whereas the faults that matter here are a true reset of the
// connections a pool already holds and a partition that delivers late what a
// caller gave up on — a statement that runs after its Set returned a timeout.
package chaos
