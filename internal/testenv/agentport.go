package testenv

import (
	"testing"

	"github.com/lambdabridge/lambdabridge/internal/loopback"
)

// FreeAgentPort returns a port that was free on 127.0.0.1 for both UDP and
// TCP a moment ago, for a DogStatsD (UDP) or EMF agent (TCP and UDP)
// listener: FreePort's port is free for TCP only, and a UDP socket (a
// metric client's source port) may hold it.
func FreeAgentPort(t testing.TB) int {
	t.Helper()
	port, err := loopback.AgentPort()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return port
}
