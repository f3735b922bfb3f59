//go:build race

package aggregate

func init() { raceEnabled = true }
