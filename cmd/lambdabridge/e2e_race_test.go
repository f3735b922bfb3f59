//go:build race

package main

// Under the race detector the binary the end-to-end tests exec is built
// with it too, so a race in the shutdown path fails them (exit status 66).
func init() { e2eBuildFlags = append(e2eBuildFlags, "-race") }
