package runner

import (
	"strings"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
)

// TestInitRetry: an init phase over its limit is run again in the invoke
// phase within the function's timeout; a second failure fails the
// invocation (Phase: invoke).
func TestInitRetry(t *testing.T) {
	cases := []struct {
		name     string
		sleepMs  string
		timeout  time.Duration
		wantFail bool
	}{
		{"retry succeeds", "600", 3 * time.Second, false},
		{"retry times out", "5000", time.Second, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			def := goDef(t, function.WithTimeout(c.timeout), function.WithEnv(map[string]string{"GOFN_INIT_SLEEP_MS": c.sleepMs, "GOFN_INIT_PRINT": "initializing"}))
			r, rec := newTestRunner(t, []function.Definition{def}, WithInitTimeout(300*time.Millisecond))
			res := invoke(t, r, "gofn", `{}`)
			txt := rec.text(res.RequestID)
			var all []string
			rec.mu.Lock()
			for _, l := range rec.lines {
				all = append(all, strings.SplitN(l.text, "\t", 2)[0])
			}
			rec.mu.Unlock()
			if !strings.Contains(strings.Join(all, "\n"), "INIT_REPORT Init Duration: ") {
				t.Errorf("no INIT_REPORT for the first init:\n%s", strings.Join(all, "\n"))
			}
			if !res.ColdStart || res.InitDuration < 300*time.Millisecond {
				t.Errorf("cold start %v, init %v: want the first init's 300 ms", res.ColdStart, res.InitDuration)
			}
			if !c.wantFail {
				if res.Failed() || res.Duration < 600*time.Millisecond {
					t.Fatalf("retried init: failed %v (%s), Duration %v (want the init's 600 ms in it)\n%s", res.Failed(), res.Payload, res.Duration, txt)
				}
				if i, j := strings.Index(txt, "START"), strings.LastIndex(txt, "initializing"); i < 0 || j < i {
					t.Errorf("the retried init's output is not after START:\n%s", txt)
				}
				return
			}
			if !res.TimedOut || res.ErrorType != "Sandbox.Timedout" || !strings.Contains(txt, "Phase: invoke\tStatus: timeout") {
				t.Errorf("result %+v\n%s", res, txt)
			}
			if m := reportOf(t, rec, res.RequestID); m[9] != "timeout" {
				t.Errorf("REPORT %s", m[0])
			}
		})
	}
}
