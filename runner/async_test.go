package runner

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdabridge/lambdabridge/function"
)

// TestAsyncRetries: a failed Event invocation is retried (twice, or
// MaximumRetryAttempts) with its request id; throttled events are
// requeued until they run; every event is accounted for.
func TestAsyncRetries(t *testing.T) {
	zero := 0
	cases := []struct {
		name      string
		payload   string
		events    int
		cfg       function.EventInvoke
		reserved  int
		want      AsyncStats
		wantCalls int64 // invocations
	}{
		{"error retried twice", `{"action":"error","text":"x"}`, 1, function.EventInvoke{}, 0,
			AsyncStats{Accepted: 1, Failed: 1, Retries: 2}, 3},
		{"no retry", `{"action":"error","text":"x"}`, 1, function.EventInvoke{MaximumRetryAttempts: &zero}, 0,
			AsyncStats{Accepted: 1, Failed: 1}, 1},
		{"success", `{}`, 2, function.EventInvoke{}, 0,
			AsyncStats{Accepted: 2, Succeeded: 2}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			def := goDef(t)
			def.EventInvoke = c.cfg
			r, rec := newTestRunner(t, []function.Definition{def}, WithAsyncRetryDelay(10*time.Millisecond))
			for range c.events {
				if err := r.InvokeAsync("gofn", Request{Payload: []byte(c.payload)}); err != nil {
					t.Fatal(err)
				}
			}
			st := waitAsync(t, r)
			if diff := cmp.Diff(c.want, st.Async); diff != "" {
				t.Errorf("async stats (-want +got):\n%s", diff)
			}
			if st.Invocations != c.wantCalls {
				t.Errorf("%d invocations, want %d", st.Invocations, c.wantCalls)
			}
			if c.wantCalls == 3 { // the retries keep the request id
				ids := map[string]bool{}
				for _, l := range rec.lines {
					if strings.HasPrefix(l.text, "START RequestId: ") {
						ids[l.o.RequestID] = true
					}
				}
				if len(ids) != 1 {
					t.Errorf("request ids of the retries: %v", ids)
				}
			}
		})
	}
}

// TestAsyncThrottled: events throttled by the reserved concurrency are
// requeued, not lost.
func TestAsyncThrottled(t *testing.T) {
	r, _ := newTestRunner(t, []function.Definition{goDef(t)}, WithReservedConcurrency(1))
	for range 3 {
		if err := r.InvokeAsync("gofn", Request{Payload: []byte(`{"action":"sleep","ms":200}`)}); err != nil {
			t.Fatal(err)
		}
	}
	st := waitAsync(t, r)
	if st.Async.Succeeded != 3 || st.Async.Requeued == 0 || st.Throttles == 0 {
		t.Errorf("async %+v throttles %d: want 3 succeeded after requeues", st.Async, st.Throttles)
	}
}

// TestAsyncDroppedAtClose: an event waiting for its retry when the runner
// closes is counted as dropped.
func TestAsyncDroppedAtClose(t *testing.T) {
	r, _ := newTestRunner(t, []function.Definition{goDef(t)}, WithAsyncRetryDelay(time.Hour))
	if err := r.InvokeAsync("gofn", Request{Payload: []byte(`{"action":"error","text":"x"}`)}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if st, _ := r.Stats("gofn"); st.Async.Retries == 1 {
			break
		}
	}
	r.Close()
	st, _ := r.Stats("gofn")
	if want := (AsyncStats{Accepted: 1, Dropped: 1, Retries: 1}); st.Async != want {
		t.Errorf("async %+v, want %+v", st.Async, want)
	}
	var b strings.Builder
	WriteSummary(&b, []Stats{st})
	if !strings.Contains(b.String(), "gofn: 1 async event: 0 succeeded, 1 dropped when the runner stopped") {
		t.Errorf("summary:\n%s", b.String())
	}
}

func waitAsync(t *testing.T, r *Runner) Stats {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if st, _ := r.Stats("gofn"); st.Async.Accepted > 0 && st.Async.Pending == 0 && st.Running == 0 {
			return st
		}
	}
	st, _ := r.Stats("gofn")
	t.Fatalf("async events still pending: %+v", st.Async)
	return st
}
