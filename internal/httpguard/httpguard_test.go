package httpguard

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGuard(t *testing.T) {
	loop := []Option{WithAddr("127.0.0.1:9001")}
	tests := []struct {
		name    string
		opts    []Option
		method  string
		host    string
		headers map[string]string
		want    int
		wantErr error
	}{
		{name: "aws cli", host: "127.0.0.1:9001", want: 200},
		{name: "curl localhost", host: "localhost:9001", want: 200},
		{name: "localhost any case, trailing dot", host: "LocalHost.:9001", want: 200},
		{name: "ipv6 loopback", host: "[::1]:9001", want: 200},
		{name: "other loopback ip", host: "127.0.0.2:9001", want: 200},
		{name: "no port", host: "127.0.0.1", want: 200},
		{name: "no host (http/1.0)", host: "", want: 200},
		{name: "rebinding name", host: "evil.example:9001", want: 421, wantErr: ErrHost},
		{name: "rebinding name without port", host: "evil.example", want: 421, wantErr: ErrHost},
		{name: "name that looks loopback", host: "127.0.0.1.nip.io:9001", want: 421, wantErr: ErrHost},
		{name: "localhost suffix", host: "localhost.evil.example:9001", want: 421, wantErr: ErrHost},
		{name: "lan ip on a loopback listener", host: "192.168.1.5:9001", want: 421, wantErr: ErrHost},
		{name: "rebinding on a get", method: "GET", host: "evil.example:9090", want: 421, wantErr: ErrHost},
		{name: "lan ip when listening on all", opts: []Option{WithAddr("0.0.0.0:9001")}, host: "192.168.1.5:9001", want: 200},
		{name: "name when listening on all", opts: []Option{WithAddr("[::]:9001")}, host: "evil.example:9001", want: 421, wantErr: ErrHost},
		{name: "listen host name", opts: []Option{WithAddr("devbox:9090")}, host: "devbox:9090", want: 200},
		{name: "extra host", opts: []Option{WithHosts("devbox")}, host: "DevBox:9090", want: 200},
		{name: "cross-site post by origin", host: "127.0.0.1:9001",
			headers: map[string]string{"Origin": "https://evil.example"}, want: 403, wantErr: ErrCrossOrigin},
		{name: "cross-site post by sec-fetch-site", host: "127.0.0.1:9001",
			headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, want: 403, wantErr: ErrCrossOrigin},
		{name: "same-site other port", host: "localhost:9001",
			headers: map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://localhost:3000"}, want: 403, wantErr: ErrCrossOrigin},
		{name: "opaque origin", host: "127.0.0.1:9001", headers: map[string]string{"Origin": "null"}, want: 403, wantErr: ErrCrossOrigin},
		{name: "same origin by origin", host: "127.0.0.1:9001", headers: map[string]string{"Origin": "http://127.0.0.1:9001"}, want: 200},
		{name: "same origin by sec-fetch-site", host: "localhost:9001",
			headers: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost:9001"}, want: 200},
		{name: "typed in the address bar", host: "localhost:9001", headers: map[string]string{"Sec-Fetch-Site": "none"}, want: 200},
		{name: "cross-site get is read-only", method: "GET", host: "127.0.0.1:9090",
			headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, want: 200},
		{name: "trusted origin", opts: []Option{WithTrustedOrigins("http://localhost:3000")}, host: "localhost:9001",
			headers: map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://localhost:3000"}, want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := New(append(append([]Option{}, loop...), tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			method := tt.method
			if method == "" {
				method = "POST"
			}
			req := httptest.NewRequest(method, "/2015-03-31/functions/fn/invocations", strings.NewReader("{}"))
			req.Host = tt.host
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			if err := g.Check(req); !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("Check = %v, want %v", err, tt.wantErr)
			}
			rec := httptest.NewRecorder()
			g.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "served") })).ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
			if tt.want == 200 && rec.Body.String() != "served" {
				t.Errorf("body %q", rec.Body)
			}
			if tt.want != 200 && !strings.Contains(rec.Body.String(), "httpguard:") {
				t.Errorf("refusal without a reason: %q", rec.Body)
			}
		})
	}
}

// TestGuardRealServer: the AWS CLI's way of calling (Host = the dialled
// address, no Origin) passes over a real connection; a rebinding Host and
// a cross-site POST are refused with the reason in the body.
func TestGuardRealServer(t *testing.T) {
	var g *Guard
	srv := httptest.NewUnstartedServer(nil)
	g, err := New(WithAddr(srv.Listener.Addr().String()), WithDeny(func(w http.ResponseWriter, _ *http.Request, code int, err error) {
		w.Header().Set("X-Refused", "yes")
		http.Error(w, err.Error(), code)
	}))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = g.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	srv.Start()
	defer srv.Close()
	do := func(host, origin string) (int, string, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/x", strings.NewReader("{}"))
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("X-Refused"), string(b)
	}
	if code, _, body := do("", ""); code != 200 || body != "ok" {
		t.Errorf("plain client: %d %s", code, body)
	}
	if code, refused, body := do("attacker.example:80", ""); code != 421 || refused != "yes" || !strings.Contains(body, `Host "attacker.example:80"`) {
		t.Errorf("rebinding: %d %s %s", code, refused, body)
	}
	if code, _, body := do("", "http://attacker.example"); code != 403 || !strings.Contains(body, "http://attacker.example") {
		t.Errorf("cross-site: %d %s", code, body)
	}
}

func TestNewBadOrigin(t *testing.T) {
	if _, err := New(WithTrustedOrigins("not a url")); err == nil || !strings.Contains(err.Error(), `"not a url"`) {
		t.Errorf("err = %v", err)
	}
}

// FuzzHost: any Host header is judged without panic, and one that passes
// names localhost or a loopback IP.
func FuzzHost(f *testing.F) {
	for _, h := range []string{"127.0.0.1:9001", "localhost", "[::1]:80", "evil.example:1", "", "[", "::1", "LOCALHOST.", "127.0.0.1.nip.io"} {
		f.Add(h)
	}
	g, err := New()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, host string) {
		if !g.hostAllowed(host) || host == "" {
			return
		}
		name := host
		if h, _, err := net.SplitHostPort(host); err == nil {
			name = h
		}
		name = strings.TrimSuffix(strings.ToLower(strings.Trim(name, "[]")), ".")
		if ip := net.ParseIP(name); name != "localhost" && (ip == nil || !ip.IsLoopback()) {
			t.Errorf("Host %q allowed", host)
		}
	})
}

// TestReadsGuarded: with WithReadsGuarded a page of another site cannot
// even read (GET) the endpoint, while clients without Origin and pages of
// the server's own origin can.
func TestReadsGuarded(t *testing.T) {
	g, err := New(WithAddr("127.0.0.1:9464"), WithReadsGuarded())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		origin string
		want   int
	}{
		{"", http.StatusOK},
		{"http://127.0.0.1:9464", http.StatusOK},
		{"http://localhost:9464", http.StatusOK},
		{"http://attacker.example", http.StatusForbidden},
		{"null", http.StatusForbidden},
		{"file://", http.StatusForbidden},
	} {
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:9464/metrics", nil)
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		rec := httptest.NewRecorder()
		g.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})).ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("GET with Origin %q: status %d, want %d: %s", tc.origin, rec.Code, tc.want, rec.Body)
		}
	}
}
