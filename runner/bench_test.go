package runner

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/internal/benchcmp"
	"github.com/lambdabridge/lambdabridge/metric"
)

// reportLatencies reports p50/p99 of ds and the rate.
func reportLatencies(b *testing.B, ds []time.Duration, elapsed time.Duration) {
	slices.Sort(ds)
	b.ReportMetric(float64(quantile(ds, 0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(quantile(ds, 0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(len(ds))/elapsed.Seconds(), "inv/s")
}

// BenchmarkWarmInvoke is the round trip of a warm invocation of a no-op Go
// handler (aws-lambda-go), one caller: through Runner.Invoke, and through
// the HTTP invoke API as curl or the AWS CLI would call it (the emulator's
// figures are for the latter).
func BenchmarkWarmInvoke(b *testing.B) {
	for _, bc := range []struct {
		name   string
		freeze bool
		http   bool
	}{{"direct/freeze", true, false}, {"direct/nofreeze", false, false}, {"http/freeze", true, true}, {"http/nofreeze", false, true}} {
		b.Run(bc.name, func(b *testing.B) {
			r := benchRunner(b, WithFreeze(bc.freeze))
			call := directCall(b, r)
			if bc.http {
				call = httpCall(b, r)
			}
			call() // cold start
			ds := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				t := time.Now()
				call()
				ds = append(ds, time.Since(t))
			}
			el := time.Since(start)
			b.StopTimer()
			reportLatencies(b, ds, el)
		})
	}
}

// benchRunner runs the no-op function with sinks that only count, so the
// figures are the runner's own.
func benchRunner(b *testing.B, opts ...Option) *Runner {
	var lines, points atomic.Int64
	opts = append([]Option{
		WithLogSink(LogSinkFunc(func(metric.Origin, string, []byte) { lines.Add(1) })),
		WithPlatformSink(PlatformSinkFunc(func(*metric.Point) { points.Add(1) })),
	}, opts...)
	r, err := New([]function.Definition{goDef(b)}, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		r.Close()
		checkNoChildren(b)
	})
	return r
}

func directCall(b *testing.B, r *Runner) func() {
	return func() {
		res, err := r.Invoke(context.Background(), "gofn", Request{Payload: []byte(`{}`)})
		if err != nil || res.Failed() {
			b.Fatalf("%v %+v", err, res)
		}
	}
}

func httpCall(b *testing.B, r *Runner) func() {
	ln, err := ListenLoopback("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Serve(ctx, ln); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return benchcmp.Invoker(b, "http://"+ln.Addr().String()+"/2015-03-31/functions/gofn/invocations")
}

// BenchmarkThroughput is invocations per second of the no-op handler with
// 1 and 2 callers and as many environments, through the HTTP invoke API.
func BenchmarkThroughput(b *testing.B) {
	for _, c := range []int{1, 2} {
		b.Run("concurrency="+itoa(c), func(b *testing.B) {
			r := benchRunner(b, WithConcurrency(c))
			call := httpCall(b, r)
			var wg sync.WaitGroup
			for range c { // cold starts
				wg.Add(1)
				go func() { defer wg.Done(); call() }()
			}
			wg.Wait()
			var next atomic.Int64
			b.ResetTimer()
			start := time.Now()
			for range c {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						call()
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "inv/s")
		})
	}
}

// BenchmarkColdStart compares a cold invocation through the runner (process
// start, init, the no-op invocation, REPORT) with the bare process start:
// the same binary started with exec against a minimal Runtime API that only
// waits for the first /next. BENCH_CGROUPS=off runs it without the cgroup
// per environment, to see what the cgroup costs.
func BenchmarkColdStart(b *testing.B) {
	def := goDef(b)
	var bare, cold, initDur []time.Duration
	for range b.N {
		bare = append(bare, bareStart(b, def))
		r, err := New([]function.Definition{def}, WithCgroups(os.Getenv("BENCH_CGROUPS") != "off"))
		if err != nil {
			b.Fatal(err)
		}
		t := time.Now()
		res, err := r.Invoke(context.Background(), "gofn", Request{Payload: []byte(`{}`)})
		cold = append(cold, time.Since(t))
		if err != nil || res.Failed() || !res.ColdStart {
			b.Fatalf("%v %+v", err, res)
		}
		initDur = append(initDur, res.InitDuration)
		r.Close()
	}
	b.StopTimer()
	med := func(ds []time.Duration) time.Duration { slices.Sort(ds); return quantile(ds, 0.5) }
	mb, mc, mi := med(bare), med(cold), med(initDur)
	b.ReportMetric(float64(mb.Microseconds()), "bare-start-µs")
	b.ReportMetric(float64(mc.Microseconds()), "cold-invoke-µs")
	b.ReportMetric(float64(mi.Microseconds()), "init-duration-µs")
	b.ReportMetric(float64((mc - mb).Microseconds()), "overhead-µs")
	checkNoChildren(b)
}

// bareStart starts def's binary against a Runtime API that answers nothing
// and returns the time until its first /next.
func bareStart(b *testing.B, def function.Definition) time.Duration {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	first := make(chan struct{}, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case first <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	})}
	go srv.Serve(ln)
	defer srv.Close()
	cmd := exec.Command(def.Command[0])
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(), "_HANDLER=bootstrap"}
	t := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	select {
	case <-first:
	case <-time.After(10 * time.Second):
		b.Fatal("no /next")
	}
	d := time.Since(t)
	cmd.Process.Kill()
	cmd.Wait()
	return d
}

// BenchmarkRun10000 runs 10,000 invocations at concurrency 4 and checks
// that every one is accounted for and no process is left.
func BenchmarkRun10000(b *testing.B) {
	for range b.N {
		st, el := runMany(b, 10000, 4, 0)
		b.ReportMetric(float64(st.Requests)/el.Seconds(), "inv/s")
		b.ReportMetric(float64(st.Duration.P50.Microseconds()), "p50-µs")
		b.ReportMetric(float64(st.Duration.P99.Microseconds()), "p99-µs")
	}
}

// runMany drives n invocations (a mix of no-ops, log lines with EMF, and
// function errors) and checks the accounting.
func runMany(tb testing.TB, n, concurrency, reserved int) (Stats, time.Duration) {
	tb.Helper()
	r, rec := newTestRunner(tb, []function.Definition{goDef(tb)}, WithConcurrency(concurrency), WithReservedConcurrency(reserved))
	evs := [][]byte{[]byte(`{}`), []byte(`{"action":"log","text":"x"}`), []byte(`{"action":"error"}`), []byte(`{}`)}
	var results, throttled, other atomic.Int64
	start := time.Now()
	st, err := r.Drive(context.Background(), Load{Function: "gofn", Events: evs, Invocations: n, Workers: concurrency + reserved,
		OnResult: func(i int, res *Result, err error) {
			switch {
			case err == nil:
				results.Add(1)
			case err == ErrThrottled:
				throttled.Add(1)
			default:
				other.Add(1)
			}
		}})
	el := time.Since(start)
	if err != nil {
		tb.Fatal(err)
	}
	if st.Requests != int64(n) || st.Invocations != st.Successes+st.Errors || st.Requests != st.Successes+st.Errors+st.Throttles ||
		results.Load() != st.Invocations || throttled.Load() != st.Throttles || other.Load() != 0 {
		tb.Errorf("accounting: %+v; results %d throttled %d other %d", st, results.Load(), throttled.Load(), other.Load())
	}
	if rec.sum(MetricInvocations) != float64(st.Invocations) || rec.sum(MetricErrors) != float64(st.Errors) || rec.sum(MetricThrottles) != float64(st.Throttles) {
		tb.Errorf("platform metrics: invocations %v errors %v throttles %v, stats %+v",
			rec.sum(MetricInvocations), rec.sum(MetricErrors), rec.sum(MetricThrottles), st)
	}
	// Every EMF line the function wrote arrived, tied to its request.
	emf := 0
	rec.mu.Lock()
	for _, l := range rec.lines {
		if strings.HasPrefix(l.text, `{"_aws"`) {
			emf++
			if l.o.RequestID == "" {
				tb.Errorf("EMF line without request id")
			}
		}
	}
	rec.mu.Unlock()
	if wantErr := st.Invocations / 4; st.Throttles == 0 && (int64(emf) != st.Invocations/4 || st.Errors != wantErr) {
		tb.Errorf("%d EMF lines, %d errors for %d invocations", emf, st.Errors, st.Invocations)
	}
	r.Close()
	checkNoChildren(tb)
	return st, el
}

func TestRunAccounting(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 400
	}
	st, el := runMany(t, n, 4, 0)
	t.Logf("%d invocations at concurrency 4 in %v (%.0f/s), p50 %v p99 %v", st.Requests, el, float64(st.Requests)/el.Seconds(), st.Duration.P50, st.Duration.P99)
	if st.ColdStarts != 4 {
		t.Errorf("stats %+v", st)
	}
	// With reserved concurrency 2 and 4 callers, some are throttled and
	// all are accounted for.
	st, _ = runMany(t, 300, 2, 2)
	if st.Throttles == 0 {
		t.Logf("no throttles happened (timing); stats %+v", st)
	}
}
