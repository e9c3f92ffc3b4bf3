package audit

// Test hooks. Tests that use the setters must not call t.Parallel: they change
// package state that parallel tests read.

// ComputeHash recomputes a record's hash, as an attacker with the source could.
var ComputeHash = computeHash

// SetBatchSize changes the rows read per query and returns the restore func.
func SetBatchSize(n int) (restore func()) {
	old := batchSize
	batchSize = n
	return func() { batchSize = old }
}

// SetProgressEvery changes how often `verify` prints progress.
func SetProgressEvery(n int64) (restore func()) {
	old := progressEvery
	progressEvery = n
	return func() { progressEvery = old }
}

// SetSealBatch changes how many entries one sealing round takes and returns the
// restore func.
func SetSealBatch(n int) (restore func()) {
	old := sealBatch
	sealBatch = n
	return func() { sealBatch = old }
}
