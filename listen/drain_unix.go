//go:build unix && !linux

package listen

import (
	"net"
	"net/netip"
	"syscall"
)

// drainUDP hands fn every datagram already in conn's receive buffer,
// without waiting for more, and returns when the buffer is empty. Read
// deadlines must be cleared first (a past deadline fails every read).
func drainUDP(conn *net.UDPConn, buf []byte, fn func(n int, from netip.AddrPort)) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return
	}
	for {
		var (
			n    int
			sa   syscall.Sockaddr
			rerr error
		)
		err := rc.Read(func(fd uintptr) bool {
			n, sa, rerr = syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT)
			return true // never wait: an empty buffer ends the drain
		})
		if err != nil || rerr != nil {
			return
		}
		fn(n, sockaddrPort(sa))
	}
}

func sockaddrPort(sa syscall.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
	}
	return netip.AddrPort{}
}
