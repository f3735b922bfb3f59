//go:build !unix

package listen

import (
	"net"
	"net/netip"
)

// drainUDP reads nothing where non-blocking reads are not available: the
// datagrams still buffered at stop are lost there.
func drainUDP(*net.UDPConn, []byte, func(int, netip.AddrPort)) {}
