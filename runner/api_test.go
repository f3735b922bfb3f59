package runner

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
)

func post(t *testing.T, url, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestInvokeAPI(t *testing.T) {
	r, rec := newTestRunner(t, []function.Definition{goDef(t)}, WithReservedConcurrency(1))
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	url := srv.URL + "/2015-03-31/functions/gofn/invocations"

	resp, body := post(t, url, `{"action":"echo"}`, nil)
	if resp.StatusCode != 200 || body != `{"action":"echo","ok":true}` || resp.Header.Get("X-Amz-Function-Error") != "" || resp.Header.Get("X-Amzn-Requestid") == "" {
		t.Errorf("ok: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	resp, _ = post(t, url, `{"action":"log","text":"in the tail"}`, map[string]string{"X-Amz-Log-Type": "Tail"})
	tail, _ := base64.StdEncoding.DecodeString(resp.Header.Get("X-Amz-Log-Result"))
	if !bytes.HasPrefix(tail, []byte("START RequestId: ")) || !bytes.Contains(tail, []byte("\nin the tail\n")) || !bytes.Contains(tail, []byte("\nREPORT RequestId: ")) {
		t.Errorf("log tail:\n%s", tail)
	}
	resp, body = post(t, url, `{"action":"error","text":"x"}`, nil)
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "Unhandled" || !strings.Contains(body, `"errorType":"errorString"`) {
		t.Errorf("function error: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	// The emulator's name and ARNs reach the only function.
	for _, name := range []string{"function", "arn:aws:lambda:us-east-1:000000000000:function:gofn", "gofn:$LATEST"} {
		if resp, body := post(t, srv.URL+"/2015-03-31/functions/"+name+"/invocations", `{}`, nil); resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
	resp, body = post(t, srv.URL+"/2015-03-31/functions/nope/invocations", `{}`, nil)
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-Errortype") != "ResourceNotFoundException" {
		t.Errorf("unknown: %d %s", resp.StatusCode, body)
	}
	resp, _ = post(t, url, `{}`, map[string]string{"X-Amz-Invocation-Type": "DryRun"})
	if resp.StatusCode != 204 {
		t.Errorf("dry run: %d", resp.StatusCode)
	}
	cc := base64.StdEncoding.EncodeToString([]byte(`{"custom":{"k":"v"}}`))
	resp, body = post(t, url, `{"action":"env"}`, map[string]string{"X-Amz-Client-Context": cc})
	if resp.StatusCode != 200 {
		t.Errorf("client context: %d %s", resp.StatusCode, body)
	}

	// Throttling: reserved concurrency 1, one slow invocation running.
	waitRunning(t, r, 0) // the previous invocations end after their answer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		post(t, url, `{"action":"sleep","ms":500}`, nil)
	}()
	waitRunning(t, r, 1)
	resp, body = post(t, url, `{}`, nil)
	if resp.StatusCode != 429 || resp.Header.Get("X-Amzn-Errortype") != "TooManyRequestsException" || !strings.Contains(body, "Rate Exceeded.") {
		t.Errorf("throttle: %d %s", resp.StatusCode, body)
	}
	wg.Wait()

	// Event: 202 at once, runs in the background.
	waitRunning(t, r, 0)
	before := rec.sum(MetricInvocations)
	resp, _ = post(t, url, `{}`, map[string]string{"X-Amz-Invocation-Type": "Event"})
	if resp.StatusCode != 202 {
		t.Errorf("event: %d", resp.StatusCode)
	}
	for deadline := time.Now().Add(15 * time.Second); rec.sum(MetricInvocations) == before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if rec.sum(MetricInvocations) != before+1 {
		t.Errorf("async invocation did not run")
	}
	// Too large.
	resp, _ = post(t, url, string(bytes.Repeat([]byte("a"), maxSyncRequestBytes+1)), nil)
	if resp.StatusCode != 413 {
		t.Errorf("too large: %d", resp.StatusCode)
	}
}

func TestListenLoopback(t *testing.T) {
	for _, a := range []string{"0.0.0.0:0", "192.168.1.1:9001", ":9001", "example.com:80"} {
		if ln, err := ListenLoopback(a); err == nil {
			ln.Close()
			t.Errorf("%s accepted", a)
		}
	}
	ln, err := ListenLoopback("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
}

func waitRunning(t *testing.T, r *Runner, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if st, _ := r.Stats("gofn"); st.Running == n {
			return
		}
	}
	t.Fatalf("never %d running", n)
}

// TestInvokeAPIRefusesBrowsers: a web page cannot start invocations through
// the user's browser: a DNS-rebound Host is refused with 421, a cross-site
// POST with 403, and neither runs the function. The AWS CLI's way of calling
// (Host = the dialled loopback address, no Origin) still works.
func TestInvokeAPIRefusesBrowsers(t *testing.T) {
	r, _ := newTestRunner(t, []function.Definition{goDef(t)})
	ln, err := ListenLoopback("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	url := "http://" + ln.Addr().String() + "/2015-03-31/functions/gofn/invocations"
	tests := []struct {
		name    string
		hdr     map[string]string
		code    int
		errType string
	}{
		{"aws cli", nil, 200, ""},
		{"localhost", map[string]string{"Host": "localhost:9001"}, 200, ""},
		{"dns rebinding", map[string]string{"Host": "attacker.example:9001"}, 421, "MisdirectedRequestException"},
		{"cross-site form", map[string]string{"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"}, 403, "AccessDeniedException"},
		{"cross-site fetch without sec-fetch", map[string]string{"Origin": "https://attacker.example"}, 403, "AccessDeniedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", url, strings.NewReader(`{"action":"echo"}`))
			for k, v := range tt.hdr {
				if k == "Host" {
					req.Host = v
				} else {
					req.Header.Set(k, v)
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.code || resp.Header.Get("X-Amzn-Errortype") != tt.errType {
				t.Errorf("%d %s %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), body)
			}
			if tt.code != 200 && !strings.Contains(string(body), "httpguard:") {
				t.Errorf("no reason in %s", body)
			}
		})
	}
	if st, _ := r.Stats("gofn"); st.Invocations != 2 {
		t.Errorf("%d invocations, want 2 (the refused requests must not run)", st.Invocations)
	}
}
