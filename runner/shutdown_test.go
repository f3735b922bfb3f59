package runner

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
)

// waitRunning waits until n invocations of name run.
func waitFnRunning(t *testing.T, r *Runner, name string, n int) {
	t.Helper()
	for range 500 {
		if st, _ := r.Stats(name); st.Running >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d invocations never ran", n)
}

type outcome struct {
	res *Result
	err error
}

func invokeAsyncResult(r *Runner, name, payload string) chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		res, err := r.Invoke(context.Background(), name, Request{Payload: []byte(payload)})
		ch <- outcome{res, err}
	}()
	return ch
}

// TestShutdownCutsInflight: with invocations that would run 20 s more,
// Shutdown returns at its deadline: the running ones are ended as Lambda
// ends an environment (an error with END and REPORT), the queued one is
// refused, and the statistics say what was cut.
func TestShutdownCutsInflight(t *testing.T) {
	r, rec := newTestRunner(t, []function.Definition{goDef(t, function.WithTimeout(60*time.Second))}, WithConcurrency(2))
	sleep := `{"action":"sleep","ms":20000}`
	running := []chan outcome{invokeAsyncResult(r, "gofn", sleep), invokeAsyncResult(r, "gofn", sleep)}
	waitFnRunning(t, r, "gofn", 2)
	queued := invokeAsyncResult(r, "gofn", sleep)
	for range 100 {
		if r.fns["gofn"].waiting.Load() == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	err := r.Shutdown(ctx)
	took := time.Since(start)
	t.Logf("Shutdown with two invocations in flight took %v (deadline 1s)", took)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want the deadline's error", err)
	}
	if took > 15*time.Second {
		t.Errorf("Shutdown took %v: it waited for the invocations", took)
	}
	for _, ch := range running {
		o := <-ch
		if o.err != nil {
			t.Fatal(o.err)
		}
		res := o.res
		if !res.Cut || res.ErrorType != ErrorTypeShutdown || res.FunctionError != "Unhandled" || res.Duration < 500*time.Millisecond {
			t.Errorf("cut invocation: %+v", res)
		}
		if !strings.Contains(string(res.Payload), "shut down before the invocation ended") {
			t.Errorf("payload %s", res.Payload)
		}
		text := rec.text(res.RequestID)
		if !strings.Contains(text, "platform\t"+ErrorTypeShutdown+"\n") || !strings.Contains(text, "platform\tEND RequestId: "+res.RequestID) {
			t.Errorf("lines of the cut invocation:\n%s", text)
		}
		reportOf(t, rec, res.RequestID)
	}
	if o := <-queued; !errors.Is(o.err, ErrClosed) {
		t.Errorf("queued request: %+v %v, want ErrClosed", o.res, o.err)
	}
	if _, err := r.Invoke(context.Background(), "gofn", Request{Payload: []byte(`{}`)}); !errors.Is(err, ErrClosed) {
		t.Errorf("invoke after Shutdown: %v", err)
	}
	st, _ := r.Stats("gofn")
	if st.Cut != 2 || st.Errors != 2 || st.Refused != 2 || st.Invocations != 2 || st.Environments != 0 {
		t.Errorf("stats: cut %d, errors %d, refused %d, invocations %d, environments %d; want 2, 2, 2, 2, 0",
			st.Cut, st.Errors, st.Refused, st.Invocations, st.Environments)
	}
}

// TestShutdownWaitsForInflight: an invocation that ends before the
// deadline ends normally and Shutdown returns nil when it has.
func TestShutdownWaitsForInflight(t *testing.T) {
	r, _ := newTestRunner(t, []function.Definition{goDef(t)})
	ch := invokeAsyncResult(r, "gofn", `{"action":"sleep","ms":300}`)
	waitFnRunning(t, r, "gofn", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	o := <-ch
	if o.err != nil || o.res.Failed() || o.res.Cut {
		t.Errorf("%+v %v", o.res, o.err)
	}
	if st, _ := r.Stats("gofn"); st.Cut != 0 || st.Successes != 1 {
		t.Errorf("cut %d, successes %d", st.Cut, st.Successes)
	}
}

// TestShutdownForced: a context already done (a second interrupt) ends the
// invocations at once, cold starts and exec-mode processes included.
func TestShutdownForced(t *testing.T) {
	slow := goDef(t, function.WithName("slowinit"), function.WithTimeout(60*time.Second), function.WithEnv(map[string]string{"GOFN_INIT_SLEEP_MS": "20000"}))
	script := execDef(t, "slow")
	script.Timeout = 60 * time.Second
	r, rec := newTestRunner(t, []function.Definition{goDef(t, function.WithTimeout(60*time.Second)), slow, script}, WithInitTimeout(60*time.Second))
	chs := []chan outcome{
		invokeAsyncResult(r, "gofn", `{"action":"sleep","ms":20000}`),
		invokeAsyncResult(r, "slowinit", `{}`),
		invokeAsyncResult(r, "script", `{}`),
	}
	for _, n := range []string{"gofn", "slowinit", "script"} {
		waitFnRunning(t, r, n, 1)
	}
	time.Sleep(200 * time.Millisecond) // the processes run
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown = %v", err)
	}
	for _, ch := range chs {
		o := <-ch
		if o.err != nil || !o.res.Cut || o.res.ErrorType != ErrorTypeShutdown {
			t.Errorf("%+v %v", o.res, o.err)
			continue
		}
		reportOf(t, rec, o.res.RequestID)
	}
}

// TestShutdownOn: when the run's context ends, the invocation in flight
// gets the drain time, or less when a second signal arrives.
func TestShutdownOn(t *testing.T) {
	// SIGUSR1 stands for the second SIGINT; this keeps it from ending the
	// test binary should one arrive before ShutdownOn listens.
	ignore := make(chan os.Signal, 1)
	signal.Notify(ignore, syscall.SIGUSR1)
	defer signal.Stop(ignore)
	tests := []struct {
		name   string
		drain  time.Duration
		signal bool
	}{
		{"drain deadline", 500 * time.Millisecond, false},
		{"second signal", time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := newTestRunner(t, []function.Definition{goDef(t, function.WithTimeout(60*time.Second))})
			ctx, cancel := context.WithCancel(context.Background())
			stop := r.ShutdownOn(ctx, tt.drain, syscall.SIGUSR1)
			defer stop()
			ch := invokeAsyncResult(r, "gofn", `{"action":"sleep","ms":20000}`)
			waitFnRunning(t, r, "gofn", 1)
			start := time.Now()
			cancel() // the first signal
			if tt.signal {
				go func() { // until ShutdownOn listens
					for !r.isClosed() {
						syscall.Kill(os.Getpid(), syscall.SIGUSR1)
						time.Sleep(50 * time.Millisecond)
					}
				}()
			}
			o := <-ch
			stop()
			t.Logf("invocation cut %v after the first signal", time.Since(start))
			if o.err != nil || !o.res.Cut {
				t.Fatalf("%+v %v", o.res, o.err)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("cut after %v", d)
			}
			if st, _ := r.Stats("gofn"); st.Cut != 1 {
				t.Errorf("cut %d", st.Cut)
			}
		})
	}
}

// TestShutdownStopsDrive: a Drive in progress stops starting invocations
// when the runner shuts down; the ones it did not start are not counted as
// refused requests, nor returned as errors.
func TestShutdownStopsDrive(t *testing.T) {
	r, _ := newTestRunner(t, []function.Definition{goDef(t, function.WithTimeout(60*time.Second))})
	type driven struct {
		st  Stats
		err error
	}
	ch := make(chan driven, 1)
	go func() {
		st, err := r.Drive(context.Background(), Load{Function: "gofn", Events: [][]byte{[]byte(`{"action":"sleep","ms":20000}`)}, Invocations: 1000})
		ch <- driven{st, err}
	}()
	waitFnRunning(t, r, "gofn", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r.Shutdown(ctx)
	d := <-ch
	if d.err != nil {
		t.Errorf("Drive = %v", d.err)
	}
	if d.st.Invocations != 1 || d.st.Cut != 1 || d.st.Refused > 1 {
		t.Errorf("invocations %d, cut %d, refused %d; want 1, 1, at most 1", d.st.Invocations, d.st.Cut, d.st.Refused)
	}
}

// TestShutdownAnswersAPICallers: a caller of the invoke API whose
// invocation is cut gets Lambda's error answer at the deadline, and new
// callers a 503, rather than waiting for the function.
func TestShutdownAnswersAPICallers(t *testing.T) {
	r, _ := newTestRunner(t, []function.Definition{goDef(t, function.WithTimeout(60*time.Second))})
	ln, err := ListenLoopback("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stop := r.ShutdownOn(ctx, 300*time.Millisecond)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- r.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String() + "/2015-03-31/functions/gofn/invocations"
	type answer struct {
		code        int
		fnErr, body string
		err         error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := http.Post(url, "application/json", strings.NewReader(`{"action":"sleep","ms":20000}`))
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- answer{code: resp.StatusCode, fnErr: resp.Header.Get("X-Amz-Function-Error"), body: string(b), err: err}
	}()
	waitFnRunning(t, r, "gofn", 1)
	cancel()
	a := <-got
	if a.err != nil {
		t.Fatal(a.err)
	}
	if a.code != 200 || a.fnErr != "Unhandled" || !strings.Contains(a.body, ErrorTypeShutdown) {
		t.Errorf("cut caller: %d %q %s", a.code, a.fnErr, a.body)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v", err)
	}
	if _, err := r.Invoke(context.Background(), "gofn", Request{}); !errors.Is(err, ErrClosed) {
		t.Errorf("after the shutdown: %v", err)
	}
}
