package listen

import (
	"net"
	"net/netip"
	"syscall"
	"testing"
)

// TestListenTCPPlain checks the agents' TCP listener is plain TCP where Go's
// default listener is Multipath TCP (a kernel with MPTCP enabled).
func TestListenTCPPlain(t *testing.T) {
	protocol := func(l net.Listener) int {
		t.Helper()
		rc, err := l.(*net.TCPListener).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var p int
		var gerr error
		if err := rc.Control(func(fd uintptr) { p, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_PROTOCOL) }); err != nil || gerr != nil {
			t.Fatal(err, gerr)
		}
		return p
	}
	def, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer def.Close()
	const mptcp = 262 // IPPROTO_MPTCP
	if protocol(def) != mptcp {
		t.Log("Go's default listener is plain TCP here (no MPTCP in the kernel): the check below shows nothing")
	}
	a, err := NewEMFAgent("127.0.0.1:0", func([]byte, netip.AddrPort) {})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if p := protocol(a.tcp); p != syscall.IPPROTO_TCP {
		t.Errorf("EMF agent's TCP listener: protocol %d, want IPPROTO_TCP (%d)", p, syscall.IPPROTO_TCP)
	}
}
