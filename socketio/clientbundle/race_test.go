//go:build race

package clientbundle_test

// raceEnabled reports whether the tests run under the race detector, which
// makes brotli's best level about ten times slower.
const raceEnabled = true
