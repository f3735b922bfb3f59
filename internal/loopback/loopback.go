// Package loopback is the one check of "is this address on this machine
// only": nothing lambdabridge serves (the invoke API, /metrics, the DogStatsD
// and EMF agent listeners) listens beyond loopback unless asked.
//
//	if err := loopback.Check("127.0.0.1:9464"); err != nil { return err }
//	loopback.Host("localhost") // true
//	loopback.Host("0.0.0.0")   // false
package loopback

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// ErrNotLoopback is wrapped by Check's error for an address beyond loopback.
var ErrNotLoopback = errors.New("not a loopback address")

// Host reports whether host ("127.0.0.1", "::1", "localhost") names the
// loopback interface. Hostnames other than localhost are not resolved: they
// are refused.
func Host(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// Check checks that addr is host:port with a loopback host. It does not bind.
func Check(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if !Host(host) {
		return fmt.Errorf("address %q is %w (use 127.0.0.1, [::1] or localhost)", addr, ErrNotLoopback)
	}
	return nil
}
