package listen

import (
	"errors"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// polledUDP is a bound UDP socket read outside the Go runtime's poller
// (WithPolling). A socket in the poller wakes the thread waiting in
// epoll_wait at the first datagram after each read, whether a goroutine
// waits for it or not, and the sender pays for the wakeup too (on another
// CPU, an interrupt). Outside the poller a datagram wakes no one; the
// socket is read when its reader chooses. Its descriptor is a duplicate of
// the one package net made, which is closed (and so leaves the poller).
type polledUDP struct {
	fd int
	rc rawConn
	r  *udpReader
}

// newPolledUDP takes conn's socket out of the poller: on success conn is
// closed and the socket is read through the returned polledUDP. It fails
// where the kernel cannot say how full the socket's buffer is (SO_MEMINFO,
// Linux 4.12), which the reader needs to know when to stop polling.
func newPolledUDP(conn *net.UDPConn) (*polledUDP, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	if cerr := rc.Control(func(s uintptr) { fd, err = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, os.NewSyscallError("fcntl", err)
	}
	p := &polledUDP{fd: fd, rc: rawConn(fd)}
	if _, ok := memInfo(p.rc); !ok {
		unix.Close(fd)
		return nil, errors.New("the kernel does not tell how full a socket's buffer is (SO_MEMINFO)")
	}
	p.r = newRawUDPReader(p.rc, conn.LocalAddr())
	conn.Close() // the duplicate keeps the socket
	return p, nil
}

// filling reports whether the socket's receive queue holds a quarter of
// its buffer or more, or the kernel dropped a datagram on it: its reader
// must not wait for the next poll.
func (p *polledUDP) filling() bool {
	m, ok := memInfo(p.rc)
	return !ok || m[unix.SK_MEMINFO_DROPS] > 0 || 4*uint64(m[unix.SK_MEMINFO_RMEM_ALLOC]) >= uint64(m[unix.SK_MEMINFO_RCVBUF])
}

// pollerConn returns the socket in the poller (another duplicate), to read
// each datagram as it comes.
func (p *polledUDP) pollerConn() (*net.UDPConn, error) {
	fd, err := unix.FcntlInt(uintptr(p.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("fcntl", err)
	}
	f := os.NewFile(uintptr(fd), "udp")
	defer f.Close() // FilePacketConn made its own duplicate
	pc, err := net.FilePacketConn(f)
	if err != nil {
		return nil, err
	}
	c, ok := pc.(*net.UDPConn)
	if !ok {
		pc.Close()
		return nil, errors.New("not a UDP socket")
	}
	return c, nil
}

func (p *polledUDP) close() error { return os.NewSyscallError("close", unix.Close(p.fd)) }

// rawConn is a syscall.RawConn for a descriptor outside the poller: Read
// and Write call f once and never wait (f wanting to wait is EAGAIN).
type rawConn int

func (c rawConn) Control(f func(fd uintptr)) error { f(uintptr(c)); return nil }

func (c rawConn) Read(f func(fd uintptr) bool) error {
	if !f(uintptr(c)) {
		return syscall.EAGAIN
	}
	return nil
}

func (c rawConn) Write(f func(fd uintptr) bool) error { return c.Read(f) }
