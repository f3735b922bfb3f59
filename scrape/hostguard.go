package scrape

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// WithAllowedHosts adds host names (without port) that requests may carry
// in their Host and Origin headers besides localhost, loopback addresses
// and the listen address: the names a remote Prometheus uses to reach a
// server started with WithAllowRemote.
func WithAllowedHosts(hosts ...string) Option {
	return func(s *Server) {
		for _, h := range hosts {
			s.allowedHosts = append(s.allowedHosts, strings.ToLower(h))
		}
	}
}

// guardHosts refuses requests that a web page could have sent through the
// user's browser (DNS rebinding: a name the attacker controls resolving to
// 127.0.0.1): their Host is not this server's, or their Origin names
// another site. Prometheus sends neither a foreign Host nor an Origin.
//
// TODO: switch to internal/httpguard (branch relrunner) once merged.
func (s *Server) guardHosts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			http.Error(w, "lambdabridge: Host "+quoteHeader(r.Host)+" is not this server's address, localhost or a loopback address: refused (DNS rebinding protection)", http.StatusForbidden)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !s.originAllowed(o) {
			http.Error(w, "lambdabridge: Origin "+quoteHeader(o)+" is another site: refused (cross-site request)", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed reports whether a Host header (host or host:port) names this
// server: localhost, a loopback address, the listen host, a host given to
// WithAllowedHosts, or, when listening on every interface (WithAllowRemote
// and 0.0.0.0 or ::), any IP address (a rebinding attack needs a name).
func (s *Server) hostAllowed(hostport string) bool {
	host := strings.ToLower(hostOnly(hostport))
	if host == "" {
		return false
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, ipErr := netip.ParseAddr(host)
	if ipErr == nil && ip.IsLoopback() {
		return true
	}
	listen := strings.ToLower(hostOnly(s.addr))
	if host == listen {
		return true
	}
	for _, h := range s.allowedHosts {
		if host == h {
			return true
		}
	}
	if lip, err := netip.ParseAddr(listen); ipErr == nil && (listen == "" || err == nil && lip.IsUnspecified()) {
		return true
	}
	return false
}

// originAllowed reports whether an Origin header names this server.
func (s *Server) originAllowed(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false // includes "null" (sandboxed frames, file: pages)
	}
	return s.hostAllowed(u.Host)
}

// hostOnly strips the port and the brackets of an IPv6 address.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}

// quoteHeader shows a header value in an error, bounded and quoted.
func quoteHeader(v string) string {
	if len(v) > 100 {
		v = v[:100] + "..."
	}
	return `"` + strings.ReplaceAll(v, `"`, `\"`) + `"`
}
