package listen

import (
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// udpReader reads a UDP socket's datagrams with recvfrom(2) made as a raw
// system call, and waits in the Go runtime's poller when the socket is
// empty. A datagram arrives while the function runs, so its reader shares
// the function's CPU share (the extension's case): a system call made the
// usual way wakes the runtime's monitor thread from its sleep, and with
// one P the monitor hands the P to another thread when the call is
// throttled mid-way. Both are context switches per datagram that cost more
// than reading it; a non-blocking recvfrom needs neither.
type udpReader struct {
	local net.Addr // for errors
	rc    syscall.RawConn
	// The read in progress: recv is made once, so a read allocates nothing.
	buf  []byte
	wait bool
	n    int
	sa   syscall.RawSockaddrAny
	err  syscall.Errno
	recv func(fd uintptr) bool
}

func newUDPReader(conn *net.UDPConn) *udpReader {
	rc, _ := conn.SyscallConn() // never fails for an open *net.UDPConn; a nil rc fails each read
	return newRawUDPReader(rc, conn.LocalAddr())
}

// newRawUDPReader reads the socket behind rc (local is its address).
func newRawUDPReader(rc syscall.RawConn, local net.Addr) *udpReader {
	r := &udpReader{local: local, rc: rc}
	r.recv = func(fd uintptr) bool {
		var (
			n     uintptr
			errno syscall.Errno
		)
		for {
			salen := uint32(syscall.SizeofSockaddrAny)
			n, _, errno = syscall.RawSyscall6(syscall.SYS_RECVFROM, fd,
				uintptr(unsafe.Pointer(unsafe.SliceData(r.buf))), uintptr(len(r.buf)),
				syscall.MSG_DONTWAIT, uintptr(unsafe.Pointer(&r.sa)), uintptr(unsafe.Pointer(&salen)))
			if errno != syscall.EINTR { // as package net, a signal is no error
				break
			}
		}
		if errno == syscall.EAGAIN && r.wait {
			return false // the poller wakes us when a datagram comes
		}
		r.n, r.err = int(n), errno
		return true
	}
	return r
}

// read waits for a datagram, copies it into buf (truncated to its size)
// and returns its size and sender. Its errors are those of
// (*net.UDPConn).ReadFromUDPAddrPort: net.ErrClosed after Close, and
// os.ErrDeadlineExceeded after the read deadline.
func (r *udpReader) read(buf []byte) (int, netip.AddrPort, error) {
	return r.recvfrom(buf, true)
}

func (r *udpReader) recvfrom(buf []byte, wait bool) (int, netip.AddrPort, error) {
	if r.rc == nil || len(buf) == 0 {
		return 0, netip.AddrPort{}, syscall.EINVAL
	}
	r.buf, r.wait = buf, wait
	err := r.rc.Read(r.recv)
	r.buf = nil
	if err == nil && r.err != 0 {
		err = &net.OpError{Op: "read", Net: "udp", Source: r.local, Err: os.NewSyscallError("recvfrom", r.err)}
	}
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	return r.n, sockaddrPort(&r.sa), nil
}

// drain hands fn every datagram already in the socket's receive buffer,
// without waiting for more, and returns when the buffer is empty. Read
// deadlines must be cleared first (a past deadline fails every read).
func (r *udpReader) drain(buf []byte, fn func(n int, from netip.AddrPort)) {
	for {
		n, from, err := r.recvfrom(buf, false)
		if err != nil {
			return
		}
		fn(n, from)
	}
}

// sockaddrPort is the address and port of a sockaddr_in or sockaddr_in6
// (with its scope as the zone, as package net names it).
func sockaddrPort(sa *syscall.RawSockaddrAny) netip.AddrPort {
	switch sa.Addr.Family {
	case syscall.AF_INET:
		a := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), netPort(a.Port))
	case syscall.AF_INET6:
		a := (*syscall.RawSockaddrInet6)(unsafe.Pointer(sa))
		addr := netip.AddrFrom16(a.Addr)
		if a.Scope_id != 0 {
			zone := strconv.FormatUint(uint64(a.Scope_id), 10)
			if ifi, err := net.InterfaceByIndex(int(a.Scope_id)); err == nil {
				zone = ifi.Name
			}
			addr = addr.WithZone(zone)
		}
		return netip.AddrPortFrom(addr, netPort(a.Port))
	}
	return netip.AddrPort{}
}

// netPort is a port as the kernel stores it (network byte order).
func netPort(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}
