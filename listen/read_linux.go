package listen

import (
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"unsafe"
)

// udpReader reads datagrams with a raw recvfrom on the non-blocking
// socket, waiting for data in the runtime's poller. The call never blocks,
// so the scheduler is not told of it: a system call it is told of wakes its
// monitor thread (sysmon) when that sleeps, and in an environment frozen
// after each invocation every thread woken costs context switches that the
// function's CPU share pays (an extension's DogStatsD listener reads a
// datagram or two per invocation).
type udpReader struct {
	conn *net.UDPConn
	rc   syscall.RawConn
}

func newUDPReader(conn *net.UDPConn) udpReader {
	rc, err := conn.SyscallConn()
	if err != nil {
		return udpReader{conn: conn}
	}
	return udpReader{conn: conn, rc: rc}
}

// read waits for one datagram and reads it into buf (len(buf) > 0); a
// longer one is cut to len(buf), as by ReadFromUDPAddrPort.
func (r udpReader) read(buf []byte) (int, netip.AddrPort, error) {
	if r.rc == nil {
		return r.conn.ReadFromUDPAddrPort(buf)
	}
	var (
		n     int
		from  netip.AddrPort
		errno syscall.Errno
	)
	err := r.rc.Read(func(fd uintptr) bool {
		var sa syscall.RawSockaddrAny
		for {
			salen := uint32(syscall.SizeofSockaddrAny)
			r1, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)),
				syscall.MSG_DONTWAIT, uintptr(unsafe.Pointer(&sa)), uintptr(unsafe.Pointer(&salen)))
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait in the poller
			}
			n, errno = int(r1), e
			from = rawAddrPort(&sa)
			return true
		}
	})
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	if errno != 0 {
		return 0, netip.AddrPort{}, &net.OpError{Op: "read", Net: "udp", Addr: r.conn.LocalAddr(), Err: errno}
	}
	return min(n, len(buf)), from, nil
}

// rawAddrPort is the address recvfrom filled in.
func rawAddrPort(sa *syscall.RawSockaddrAny) netip.AddrPort {
	switch sa.Addr.Family {
	case syscall.AF_INET:
		a := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), portOf(a.Port))
	case syscall.AF_INET6:
		a := (*syscall.RawSockaddrInet6)(unsafe.Pointer(sa))
		ip := netip.AddrFrom16(a.Addr)
		if a.Scope_id != 0 {
			ip = ip.WithZone(strconv.FormatUint(uint64(a.Scope_id), 10))
		}
		return netip.AddrPortFrom(ip, portOf(a.Port))
	}
	return netip.AddrPort{}
}

// portOf reads a port in network byte order.
func portOf(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}
