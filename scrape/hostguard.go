package scrape

import "strings"

// WithAllowedHosts adds host names (without port) that requests may carry
// in their Host and Origin headers besides localhost, loopback addresses
// and the listen address: the names a remote Prometheus uses to reach a
// server started with WithAllowRemote. Every other Host is refused (DNS
// rebinding), and so is an Origin of another site (internal/httpguard).
func WithAllowedHosts(hosts ...string) Option {
	return func(s *Server) {
		for _, h := range hosts {
			s.allowedHosts = append(s.allowedHosts, strings.ToLower(h))
		}
	}
}
