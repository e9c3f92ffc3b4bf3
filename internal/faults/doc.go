// Package faults holds Countersign's fault-injection and hostile-input tests; it has
// no code of its own.
//
// The fast test (the hostile-input sweep through the real router) runs with every
// `go test ./...`. The tests that build the binary and run `countersign serve` as a
// child process (Postgres stopped mid-load, SIGTERM under load, two instances on one
// database) are behind the `faults` build tag and run with `make faults`, which also
// gives each fuzz target a fixed budget.
package faults
