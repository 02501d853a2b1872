//go:build race

package index

// raceEnabled shrinks the quality tests under the race detector, which
// slows them ~20×; the concurrency test keeps its size.
const raceEnabled = true
