package loopback

import (
	"fmt"
	"net"
	"strconv"
)

// AgentPort returns a port of 127.0.0.1 that was free for both UDP and TCP
// a moment ago, for a DogStatsD (UDP) or EMF agent (TCP and UDP) listener
// another process binds next: a port free for TCP may be a UDP socket's
// (a metric client's source port), and the other way round.
func AgentPort() (int, error) {
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
			return port, nil
		}
		err = terr
	}
	return 0, fmt.Errorf("no port of 127.0.0.1 free for both UDP and TCP: %w", err)
}
