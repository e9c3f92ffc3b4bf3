//go:build !faults

package faults

// fullSweep is off in `make test`: every route still gets every hostile path value as
// every role and every hostile query value in all keys at once; the one-key-at-a-time
// pass runs in `make faults`.
const fullSweep = false
