//go:build race

package main_test

// raceEnabled tells that the tests run with the race detector, so the server under test is
// built with it too.
const raceEnabled = true
