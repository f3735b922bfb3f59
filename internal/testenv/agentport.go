package testenv

import (
	"net"
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

// SendUDP sends msg n times to addr from one socket, as fast as it can: a
// flood for the tests of what the kernel drops when a receive buffer is
// full.
func SendUDP(t testing.TB, addr string, msg []byte, n int) {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range n {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
}
