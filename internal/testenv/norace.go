//go:build !race

package testenv

// RaceEnabled says the race detector is on: it allocates, so allocation
// counts and heap figures mean nothing.
const RaceEnabled = false
