package listen

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/internal/testenv"
)

// udpReader reads as (*net.UDPConn).ReadFromUDPAddrPort does: the
// datagram (truncated to the buffer), its sender over IPv4 and IPv6, the
// deadline's and Close's errors; drain takes what the socket holds
// without waiting; and a read allocates nothing.
func TestUDPReader(t *testing.T) {
	for _, network := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(network, func(t *testing.T) {
			pc, err := net.ListenPacket("udp", network)
			if err != nil {
				t.Skipf("no such loopback here: %v", err)
			}
			conn := pc.(*net.UDPConn)
			r := newUDPReader(conn)
			sender, err := net.DialUDP("udp", nil, conn.LocalAddr().(*net.UDPAddr))
			if err != nil {
				t.Fatal(err)
			}
			defer sender.Close()
			want := sender.LocalAddr().(*net.UDPAddr).AddrPort()

			// A read waits for the datagram sent after it began.
			go func() {
				time.Sleep(20 * time.Millisecond)
				sender.Write([]byte("a:1|c"))
			}()
			buf := make([]byte, 64)
			n, from, err := r.read(buf)
			if err != nil || string(buf[:n]) != "a:1|c" || from != want {
				t.Fatalf("read = %q from %v, %v; want %q from %v", buf[:n], from, err, "a:1|c", want)
			}

			// Truncated to the buffer, as recvfrom(2) and package net do.
			sender.Write([]byte("0123456789"))
			if n, _, err := r.read(buf[:4]); err != nil || string(buf[:n]) != "0123" {
				t.Errorf("short buffer: %q, %v; want %q", buf[:n], err, "0123")
			}

			// drain: every datagram held, then it returns on an empty socket.
			for _, p := range []string{"x:1|c", "y:2|g", "z:3|h"} {
				sender.Write([]byte(p))
			}
			time.Sleep(20 * time.Millisecond) // loopback delivers at once; be generous
			var got []string
			r.drain(buf, func(n int, from netip.AddrPort) {
				got = append(got, string(buf[:n]))
				if from != want {
					t.Errorf("drain: from %v, want %v", from, want)
				}
			})
			if len(got) != 3 || got[0] != "x:1|c" || got[2] != "z:3|h" {
				t.Errorf("drain = %q", got)
			}

			// No allocation per datagram.
			if testenv.RaceEnabled {
				t.Log("allocations not counted: the race detector allocates")
			} else if allocs := testing.AllocsPerRun(100, func() {
				sender.Write([]byte("a:1|c"))
				if _, _, err := r.read(buf); err != nil {
					t.Fatal(err)
				}
			}); allocs > 0 {
				t.Errorf("%v allocations per read", allocs)
			}

			conn.SetReadDeadline(time.Now())
			if _, _, err := r.read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("after the deadline: %v, want os.ErrDeadlineExceeded", err)
			}
			conn.SetReadDeadline(time.Time{})
			conn.Close()
			if _, _, err := r.read(buf); !errors.Is(err, net.ErrClosed) {
				t.Errorf("after Close: %v, want net.ErrClosed", err)
			}
		})
	}
}
