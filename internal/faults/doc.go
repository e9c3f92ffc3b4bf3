// Package faults holds Countersign's fault-injection and hostile-input tests; it has
// no code of its own.
//
// Most run with every `go test ./...` (so `make test`): the hostile-input sweep
// through the real router (its one-query-key-at-a-time pass only under the tag), and, with the binary built and run as `countersign serve`
// child processes, SIGTERM under load, two instances on one database, and connector
// timeouts, 5xx and 429 storms under webhook and console load (connstorm_test.go).
// The slow ones are behind the `faults` build tag: Postgres stopped mid-load, a
// `serve --workers-only` process SIGKILLed mid-action under load (a rescue waits for
// River's leader lease), and webhook overload (3,000/s for 8 s: every 503 checked
// against the database, peak memory under 250 MB). `make faults` runs all of them and gives each fuzz target a
// fixed budget; CI (.ci/run) runs `make test`, then `make faults`.
package faults
