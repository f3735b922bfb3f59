package loopback

import (
	"net"
	"strconv"
	"testing"
)

// TestAgentPort: the port can be bound for UDP and for TCP.
func TestAgentPort(t *testing.T) {
	port, err := AgentPort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
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
