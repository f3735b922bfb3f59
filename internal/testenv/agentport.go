package testenv

import (
	"net"
	"strconv"
	"testing"
)

// FreeAgentPort returns a port that was free on 127.0.0.1 for both UDP and
// TCP a moment ago, for a DogStatsD (UDP) or EMF agent (TCP and UDP)
// listener: FreePort's port is free for TCP only, and a UDP socket (a
// metric client's source port) may hold it.
func FreeAgentPort(t testing.TB) int {
	t.Helper()
	var err error
	for range 20 {
		var c net.PacketConn
		if c, err = net.ListenPacket("udp4", "127.0.0.1:0"); err != nil {
			break
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		ln, terr := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port))
		c.Close()
		if terr == nil {
			ln.Close()
			return port
		}
		err = terr
	}
	t.Fatalf("testenv: pick a port free for UDP and TCP: %v", err)
	return 0
}
