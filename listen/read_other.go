//go:build !linux

package listen

import (
	"net"
	"net/netip"
)

// udpReader reads datagrams with the net package.
type udpReader struct{ conn *net.UDPConn }

func newUDPReader(conn *net.UDPConn) udpReader { return udpReader{conn: conn} }

func (r udpReader) read(buf []byte) (int, netip.AddrPort, error) {
	return r.conn.ReadFromUDPAddrPort(buf)
}
