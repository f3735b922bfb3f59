package listen

import (
	"net"
	"sync"
)

// kernelDrops follows the kernel's drop counter of one UDP socket: the
// datagrams that arrived while the socket's receive buffer was full (the
// reader too slow for a flood), which no read ever sees. The counter is the
// socket's sk_drops, read from /proc/net/udp{,6} on Linux (the same number
// SO_RXQ_OVFL attaches to datagrams, but readable at any time, so the drops
// at the end of a flood are not lost). Elsewhere it stays 0.
type kernelDrops struct {
	mu     sync.Mutex
	inode  uint64 // 0: not readable on this platform
	last   uint64 // last value read
	closed bool
}

func newKernelDrops(c *net.UDPConn) *kernelDrops {
	ino, err := socketInode(c)
	if err != nil {
		return &kernelDrops{}
	}
	return &kernelDrops{inode: ino}
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
	if k.closed || k.inode == 0 {
		return
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
