package loopback

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
)

// AgentPort returns a port of 127.0.0.1 that was free for both UDP and TCP
// a moment ago, for a DogStatsD (UDP) or EMF agent (TCP and UDP) listener
// another process binds next: a port free for TCP may be a UDP socket's
// (a metric client's source port), and the other way round. It is none of
// the last ports handed out (recentPorts).
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
			if handed.take(port) {
				return port, nil
			}
			err = errRepeated
			continue
		}
		err = terr
	}
	return 0, fmt.Errorf("no port of 127.0.0.1 free for both UDP and TCP: %w", err)
}

// TCPPort returns a TCP port of 127.0.0.1 that was free a moment ago, for
// a process that binds it next, and none of the last ports handed out.
func TCPPort() (int, error) {
	for range 100 {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("pick a free port: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if handed.take(port) {
			return port, nil
		}
	}
	return 0, fmt.Errorf("pick a free port: %w", errRepeated)
}

var errRepeated = errors.New("the kernel keeps handing out ports given moments ago")

// handed holds the last ports AgentPort and TCPPort returned: the kernel
// hands a port it just freed out again, so two ports picked one after the
// other for processes that bind them later could be the same one (a Thanos
// receiver's remote-write port was another's HTTP port).
var handed = recentPorts{set: map[int]bool{}}

// recentPorts remembers the last len(ring) ports handed out.
type recentPorts struct {
	mu   sync.Mutex
	ring [4096]int
	next int
	set  map[int]bool
}

// take records port and reports true, unless it is among the last ports
// handed out.
func (r *recentPorts) take(port int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set[port] {
		return false
	}
	if old := r.ring[r.next]; old != 0 {
		delete(r.set, old)
	}
	r.ring[r.next], r.set[port] = port, true
	r.next = (r.next + 1) % len(r.ring)
	return true
}
