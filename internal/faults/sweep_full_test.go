//go:build faults

package faults

// fullSweep: `make faults` sends every hostile query value in every query key, one
// key at a time, to every GET route (about 10,000 more requests than `make test`).
const fullSweep = true
