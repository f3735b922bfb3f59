package listen

import (
	"net"
	"sync"
	"syscall"
)

// kernelDrops follows the kernel's drop counter of one UDP socket: the
// datagrams that arrived while the socket's receive buffer was full (the
// reader too slow for a flood), which no read ever sees. The counter is the
// socket's sk_drops (the same number SO_RXQ_OVFL attaches to datagrams, but
// readable at any time, so the drops at the end of a flood are not lost).
// On Linux it is read with getsockopt(SO_MEMINFO), well under a
// microsecond a read; where that fails (SO_MEMINFO came in Linux 4.12),
// from the socket's line in /proc/net/udp{,6}, which took 74 µs a read here
// (BenchmarkKernelDrops): the kernel walks its whole UDP hash table however
// few sockets there are. The self-metrics read it at each gathering (each
// scrape of /metrics). Elsewhere it stays 0.
type kernelDrops struct {
	mu      sync.Mutex
	rc      syscall.RawConn // the socket's
	proc    bool            // SO_MEMINFO failed: read /proc from now on
	inode   uint64          // the socket's inode in /proc (found on first use)
	last    uint64          // last value read
	unknown bool            // neither way reads it on this platform
	closed  bool
}

// newKernelDrops follows c's counter.
func newKernelDrops(c *net.UDPConn) *kernelDrops {
	rc, _ := c.SyscallConn() // never fails for an open *net.UDPConn; sockDrops fails with a nil one
	return &kernelDrops{rc: rc}
}

// read refreshes the counter while the socket is open and returns the last
// value read (the final one once closed).
func (k *kernelDrops) read() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.refresh()
	return k.last
}

func (k *kernelDrops) refresh() {
	if k.closed || k.unknown || k.rc == nil {
		return
	}
	if !k.proc {
		if n, ok := sockDrops(k.rc); ok {
			k.last = n
			return
		}
		k.proc = true
	}
	if k.inode == 0 {
		ino, err := socketInode(k.rc)
		if err != nil {
			k.unknown = true
			return
		}
		k.inode = ino
	}
	if n, ok := procUDPDrops(k.inode); ok {
		k.last = n
	}
}

// close reads the counter one last time, then closes the socket with fn
// (after the close the socket's line in /proc is gone).
func (k *kernelDrops) close(fn func() error) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.refresh()
	k.closed = true
	return fn()
}
