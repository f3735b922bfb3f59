// Package httpguard keeps web pages out of lambdabridge's local HTTP APIs
// (the invoke API, /metrics), as the Docker and Kubernetes local APIs do. A
// page the user visits can make the browser send requests to 127.0.0.1; the
// guard refuses the two ways it could use them:
//
//   - DNS rebinding: the page's own host name made to resolve to 127.0.0.1.
//     The request then carries that name in Host; only the listen address's
//     host, "localhost" and loopback IPs are accepted (421 Misdirected
//     Request).
//   - Cross-site requests (CSRF): a POST, PUT, PATCH or DELETE that a
//     browser marks as coming from another origin (Sec-Fetch-Site, else an
//     Origin that is not the Host) is refused with 403 Forbidden (Go's
//     http.CrossOriginProtection).
//
// Clients that are not browsers (curl, the AWS CLI and SDKs, Prometheus)
// send no Origin and the Host they dialled, and pass:
//
//	g, err := httpguard.New(httpguard.WithAddr(ln.Addr().String()))
//	if err != nil { ... }
//	http.Serve(ln, g.Handler(mux))
package httpguard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Errors Check returns; callers branch with errors.Is.
var (
	// ErrHost: the Host header names a host that is not this server
	// (DNS rebinding).
	ErrHost = errors.New("httpguard: host not allowed")
	// ErrCrossOrigin: a state-changing request sent by a browser from
	// another origin (CSRF).
	ErrCrossOrigin = errors.New("httpguard: cross-origin request refused")
)

// DenyFunc writes the answer to a refused request: code is 421 (ErrHost) or
// 403 (ErrCrossOrigin), err says why.
type DenyFunc func(w http.ResponseWriter, r *http.Request, code int, err error)

// Guard checks requests. Build it with New; it is safe for concurrent use.
type Guard struct {
	hosts   map[string]bool // lowercase host names and IPs allowed besides loopback
	anyIP   bool            // listening on all addresses: any IP literal is this server
	deny    DenyFunc
	origins []string
	cop     *http.CrossOriginProtection
	// reads: an Origin of another site is refused on every method, not
	// only on state-changing ones (for endpoints whose answer is the
	// secret, such as /metrics).
	reads bool
}

// Option configures a Guard.
type Option func(*Guard)

// WithAddr allows the host of the address the server listens on
// ("127.0.0.1:9001", "[::1]:0", "myhost:9090"). When it is an unspecified
// address (0.0.0.0, ::), any IP address is accepted as Host: a DNS
// rebinding needs a host name.
func WithAddr(addr string) Option {
	return func(g *Guard) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		host = strings.Trim(host, "[]")
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			g.anyIP = true
			return
		}
		if host != "" {
			g.hosts[strings.ToLower(host)] = true
		}
	}
}

// WithHosts allows more host names (for example a name the user gave this
// machine in /etc/hosts).
func WithHosts(hosts ...string) Option {
	return func(g *Guard) {
		for _, h := range hosts {
			g.hosts[strings.ToLower(strings.Trim(h, "[]"))] = true
		}
	}
}

// WithTrustedOrigins lets browser pages from these origins
// ("http://localhost:3000") send state-changing requests.
func WithTrustedOrigins(origins ...string) Option {
	return func(g *Guard) { g.origins = append(g.origins, origins...) }
}

// WithReadsGuarded refuses requests whose Origin header names another site
// (or is "null") whatever their method, for endpoints whose answer itself
// must stay out of web pages (/metrics). Without it only state-changing
// requests are checked.
func WithReadsGuarded() Option { return func(g *Guard) { g.reads = true } }

// WithDeny sets how refusals are written (default: plain text with the
// reason).
func WithDeny(f DenyFunc) Option { return func(g *Guard) { g.deny = f } }

// New returns a guard that accepts localhost, loopback IPs and the hosts
// its options allow.
func New(opts ...Option) (*Guard, error) {
	g := &Guard{hosts: map[string]bool{"localhost": true}, deny: denyText, cop: http.NewCrossOriginProtection()}
	for _, o := range opts {
		o(g)
	}
	for _, o := range g.origins {
		if err := g.cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("httpguard: trusted origin %q: %w", o, err)
		}
	}
	return g, nil
}

// Check returns nil for a request the server may serve, else an error
// wrapping ErrHost or ErrCrossOrigin that names the offending header.
func (g *Guard) Check(r *http.Request) error {
	if !g.hostAllowed(r.Host) {
		return fmt.Errorf("%w: Host %q is not this server's address (localhost or a loopback IP); a web page may be trying to reach this local API through DNS rebinding", ErrHost, r.Host)
	}
	if o := r.Header.Get("Origin"); g.reads && o != "" && !g.originAllowed(o) {
		return fmt.Errorf("%w: %s %s from a web page of another origin (%q); this local API serves only same-origin and non-browser clients", ErrCrossOrigin, r.Method, r.URL.Path, o)
	}
	if err := g.cop.Check(r); err != nil {
		from := r.Header.Get("Origin")
		if from == "" {
			from = "Sec-Fetch-Site: " + r.Header.Get("Sec-Fetch-Site")
		}
		return fmt.Errorf("%w: %s %s from a web page of another origin (%s); this local API serves only same-origin and non-browser clients", ErrCrossOrigin, r.Method, r.URL.Path, from)
	}
	return nil
}

// Handler serves next the requests Check accepts and refuses the others
// (421 for ErrHost, 403 for ErrCrossOrigin).
func (g *Guard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := g.Check(r)
		switch {
		case err == nil:
			next.ServeHTTP(w, r)
		case errors.Is(err, ErrHost):
			g.deny(w, r, http.StatusMisdirectedRequest, err)
		default:
			g.deny(w, r, http.StatusForbidden, err)
		}
	})
}

// hostAllowed reports whether the Host header names this server. An empty
// Host (HTTP/1.0) comes from no browser and is allowed.
func (g *Guard) hostAllowed(hostport string) bool {
	if hostport == "" {
		return true
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport // no port
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if g.hosts[strings.TrimSuffix(host, ".")] {
		return true
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback() || g.anyIP
	}
	return false
}

// originAllowed reports whether an Origin header names this server; "null"
// (sandboxed frames, file: pages) never does.
func (g *Guard) originAllowed(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return g.hostAllowed(u.Host)
}

func denyText(w http.ResponseWriter, _ *http.Request, code int, err error) {
	http.Error(w, err.Error(), code)
}
