package scrape

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestHostAndOriginGuard: /metrics answered any Host and Origin, so a web
// page could read it through the browser by DNS rebinding (a name of the
// attacker's resolving to 127.0.0.1). Requests not addressed to this server
// are now refused.
func TestHostAndOriginGuard(t *testing.T) {
	for _, tc := range []struct {
		name, listen string
		opts         []Option
		host, origin string
		want         int
	}{
		{"loopback address", "127.0.0.1:9464", nil, "127.0.0.1:9464", "", 200},
		{"other loopback address", "127.0.0.1:9464", nil, "127.0.0.2:9464", "", 200},
		{"localhost", "127.0.0.1:9464", nil, "localhost:9464", "", 200},
		{"localhost upper case, no port", "127.0.0.1:9464", nil, "LOCALHOST", "", 200},
		{"ipv6 loopback", "[::1]:9464", nil, "[::1]:9464", "", 200},
		{"rebound name", "127.0.0.1:9464", nil, "attacker.example:9464", "", 421},
		{"name without port", "127.0.0.1:9464", nil, "attacker.example", "", 421},
		{"empty host (HTTP/1.0, no browser sends it)", "127.0.0.1:9464", nil, "", "", 200},
		{"private address", "127.0.0.1:9464", nil, "192.168.1.10:9464", "", 421},
		{"same-origin page", "127.0.0.1:9464", nil, "127.0.0.1:9464", "http://127.0.0.1:9464", 200},
		{"cross-site page", "127.0.0.1:9464", nil, "127.0.0.1:9464", "http://attacker.example", 403},
		{"null origin", "127.0.0.1:9464", nil, "127.0.0.1:9464", "null", 403},
		{"listen name", "metrics.internal:9464", []Option{WithAllowRemote()}, "metrics.internal:9464", "", 200},
		{"listen address", "10.0.0.5:9464", []Option{WithAllowRemote()}, "10.0.0.5:9464", "", 200},
		{"other address of a specific listen address", "10.0.0.5:9464", []Option{WithAllowRemote()}, "10.0.0.6:9464", "", 421},
		{"any address on all interfaces", "0.0.0.0:9464", []Option{WithAllowRemote()}, "10.0.0.5:9464", "", 200},
		{"name on all interfaces", "0.0.0.0:9464", []Option{WithAllowRemote()}, "attacker.example:9464", "", 421},
		{"allowed name", "0.0.0.0:9464", []Option{WithAllowRemote(), WithAllowedHosts("Bridge.LAN")}, "bridge.lan:9464", "", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.listen, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Host = tc.host
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("Host %q Origin %q: status %d, want %d: %s", tc.host, tc.origin, rec.Code, tc.want, rec.Body)
			}
		})
	}
}

// TestRebindingOverTheNetwork sends what a browser sends after DNS
// rebinding (a foreign Host to the loopback address) through a real socket,
// and what Prometheus sends.
func TestRebindingOverTheNetwork(t *testing.T) {
	addr, cancel, done := serveLoopback(t, newServer(t))
	defer func() { cancel(); <-done }()
	client := &http.Client{Timeout: 5 * time.Second}
	for host, want := range map[string]int{"": 200, "attacker.example": 421} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
		if host != "" {
			req.Host = host
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || want == 403 && !strings.Contains(string(body), "DNS rebinding") {
			t.Errorf("Host %q: %d %s, want %d", host, resp.StatusCode, body, want)
		}
	}
}
