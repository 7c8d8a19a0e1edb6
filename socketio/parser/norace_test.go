//go:build !race

package parser_test

// raceEnabled reports whether the tests run under the race detector, whose sync.Pool drops a
// quarter of what is put back, at random, so that pooled buffers are made again.
const raceEnabled = false
