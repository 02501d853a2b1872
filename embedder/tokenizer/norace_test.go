//go:build !race

package embedder

const raceEnabled = false
