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

// TestPortsNeverRepeat: ports picked one after the other are all
// different, though each is closed at once (the kernel hands some out
// again: the old TCP picker gave a port twice within 300).
func TestPortsNeverRepeat(t *testing.T) {
	seen := map[int]bool{}
	for i := range 600 {
		pick := TCPPort
		if i%2 == 1 {
			pick = AgentPort
		}
		p, err := pick()
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] {
			t.Fatalf("port %d picked twice", p)
		}
		seen[p] = true
	}
}

// TestRecentPortsForgetsTheOldest: the memory is bounded; a port comes
// back once len(ring) others were handed out after it.
func TestRecentPortsForgetsTheOldest(t *testing.T) {
	r := recentPorts{set: map[int]bool{}}
	if !r.take(1) || r.take(1) {
		t.Fatal("port 1 taken twice in a row")
	}
	for p := 2; p <= len(r.ring)+1; p++ { // len(ring) others after port 1
		r.take(p)
	}
	if r.take(3) {
		t.Error("port 3 came back while still recent")
	}
	if !r.take(1) {
		t.Error("port 1 did not come back after len(ring) others")
	}
	if len(r.set) != len(r.ring) {
		t.Errorf("%d ports remembered, want %d", len(r.set), len(r.ring))
	}
}
