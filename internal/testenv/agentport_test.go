package testenv

import (
	"net"
	"strconv"
	"testing"
)

// TestFreeAgentPort: the port can be bound for UDP and for TCP.
func TestFreeAgentPort(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(FreeAgentPort(t))
	c, err := net.ListenPacket("udp4", addr)
	if err != nil {
		t.Fatalf("udp %s: %v", addr, err)
	}
	defer c.Close()
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Fatalf("tcp %s: %v", addr, err)
	}
	ln.Close()
}
