//go:build !linux

package listen

import (
	"errors"
	"net"
	"syscall"
)

// polledUDP: reading a socket outside the Go runtime's poller is Linux's
// (poll_linux.go); elsewhere WithPolling is ignored.
type polledUDP struct {
	r  *udpReader
	rc syscall.RawConn
}

func newPolledUDP(*net.UDPConn) (*polledUDP, error) {
	return nil, errors.New("polling a socket: only on Linux")
}

func (*polledUDP) filling() bool                     { return true }
func (*polledUDP) pollerConn() (*net.UDPConn, error) { return nil, errors.ErrUnsupported }
func (*polledUDP) close() error                      { return nil }
