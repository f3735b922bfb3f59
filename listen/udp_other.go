//go:build !linux

package listen

import (
	"net"
	"net/netip"
)

// udpReader reads a UDP socket's datagrams through package net.
type udpReader struct{ conn *net.UDPConn }

func newUDPReader(conn *net.UDPConn) *udpReader { return &udpReader{conn: conn} }

// read waits for a datagram (ReadFromUDPAddrPort).
func (r *udpReader) read(buf []byte) (int, netip.AddrPort, error) {
	return r.conn.ReadFromUDPAddrPort(buf)
}

// drain hands fn every datagram already in the socket's receive buffer
// (drainUDP).
func (r *udpReader) drain(buf []byte, fn func(n int, from netip.AddrPort)) {
	drainUDP(r.conn, buf, fn)
}
