package runner

import (
	"strings"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
)

// TestReportStatus: REPORT says Status: timeout, or Status: error with the
// Error Type, when an invocation failed (the platform package's REPORT, so
// that a log read back counts what run counted).
func TestReportStatus(t *testing.T) {
	def := goDef(t, function.WithTimeout(time.Second))
	r, rec := newTestRunner(t, []function.Definition{def})
	cases := []struct{ payload, status, errType string }{
		{`{"action":"error","text":"x"}`, "error", "errorString"},
		{`{"action":"sleep","ms":3000}`, "timeout", ""},
		{`{"action":"crash"}`, "error", "Runtime.ExitError"},
		{`{}`, "", ""},
	}
	for _, c := range cases {
		res := invoke(t, r, "gofn", c.payload)
		m := reportOf(t, rec, res.RequestID)
		if m[9] != c.status || m[11] != c.errType {
			t.Errorf("%s: REPORT status %q error type %q, want %q %q: %s", c.payload, m[9], m[11], c.status, c.errType, m[0])
		}
	}
}

// TestInitOutputOrder: a cold start's log is INIT_START, the init phase's
// output, then START, as on Lambda.
func TestInitOutputOrder(t *testing.T) {
	def := goDef(t, function.WithEnv(map[string]string{"GOFN_INIT_PRINT": "init says hi"}))
	def.Runtime = "provided.al2023"
	for range 3 {
		r, rec := newTestRunner(t, []function.Definition{def})
		res := invoke(t, r, "gofn", `{}`)
		r.Close()
		var got []string
		rec.mu.Lock()
		for _, l := range rec.lines {
			if l.o.Environment == res.Environment {
				got = append(got, strings.SplitN(l.text, " ", 2)[0])
			}
		}
		rec.mu.Unlock()
		want := []string{"INIT_START", "init", "START", "END", "REPORT"}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("cold start lines %q, want %q", got, want)
		}
	}
	r, rec := newTestRunner(t, []function.Definition{def})
	invoke(t, r, "gofn", `{}`)
	if !strings.Contains(rec.text(""), "INIT_START Runtime Version: provided:al2023.lambdabridge\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:provided:al2023.lambdabridge") {
		t.Errorf("INIT_START line:\n%s", rec.text(""))
	}
}
