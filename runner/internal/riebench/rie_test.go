package riebench

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/internal/benchcmp"
	"github.com/lambdabridge/lambdabridge/internal/testenv/riebin"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/runner"
)

var workDir string // temporary build output, removed by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "riebench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	workDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	benchcmp.PrintSummary(os.Stdout)
	os.Exit(code)
}

var (
	buildOnce            sync.Once
	rieBin, fnBin        string
	rieSkip, fnBuildFail string
)

// binaries builds the no-op function (runner/testdata/gofn, aws-lambda-go)
// and the emulator (cached by version); the benchmark is skipped, saying
// why, only when the emulator cannot be built.
func binaries(b *testing.B) (rie, fn string) {
	buildOnce.Do(func() {
		fnBin = filepath.Join(workDir, "gofn", "bootstrap")
		if out, err := exec.Command("go", "build", "-C", "../../..", "-o", fnBin, "./runner/testdata/gofn").CombinedOutput(); err != nil {
			fnBuildFail = fmt.Sprintf("go build runner/testdata/gofn: %v\n%s", err, out)
			return
		}
		var err error
		if rieBin, err = riebin.Binary(); err != nil {
			rieSkip = "no emulator baseline: " + err.Error()
		}
	})
	if fnBuildFail != "" {
		b.Fatal(fnBuildFail)
	}
	if rieSkip != "" {
		b.Skip(rieSkip)
	}
	return rieBin, fnBin
}

// freePort returns a loopback address nothing listens on (yet).
func freePort(b *testing.B) string {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startRIE runs the emulator with fn on loopback and returns its invoke URL.
func startRIE(b *testing.B, rie, fn string) string {
	addr, api := freePort(b), freePort(b)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", api, "--log-level", "error", fn)
	cmd.Env = append(os.Environ(), "AWS_LAMBDA_FUNCTION_TIMEOUT=30")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	// Its own process group, so that the function it started goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	url := "http://" + addr + "/2015-03-31/functions/function/invocations"
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp4", addr); err == nil {
			c.Close()
			return url
		}
		if time.Now().After(deadline) {
			b.Fatal("aws-lambda-rie does not listen on " + addr)
		}
	}
}

// startRunner serves fn with lambdabridge's runner (its invoke API, as
// `lambdabridge run --serve` does, with sinks that only count) and returns
// its invoke URL.
func startRunner(b *testing.B, fn string, concurrency int, opts ...runner.Option) string {
	def, err := function.FromHandler(fn, function.WithName("gofn"))
	if err != nil {
		b.Fatal(err)
	}
	var lines atomic.Int64
	r, err := runner.New([]function.Definition{def}, append([]runner.Option{runner.WithConcurrency(concurrency),
		runner.WithLogSink(runner.LogSinkFunc(func(metric.Origin, string, []byte) { lines.Add(1) })),
		runner.WithPlatformSink(runner.PlatformSinkFunc(func(*metric.Point) {}))}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := runner.ListenLoopback("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Serve(ctx, ln); close(done) }()
	b.Cleanup(func() { cancel(); <-done; r.Close() })
	return "http://" + ln.Addr().String() + "/2015-03-31/functions/gofn/invocations"
}

// BenchmarkWarmInvoke is one caller invoking the no-op function, warm,
// through lambdabridge's runner (as `run --serve` runs it: environments
// frozen between invocations) and through the emulator in alternating
// slices, and reports both rates and x-vs-aws-lambda-rie. A third
// contender, the runner with --no-freeze, shows what freezing costs
// (x-vs-lambdabridge-nofreeze below 1).
func BenchmarkWarmInvoke(b *testing.B) {
	rie, fn := binaries(b)
	lb := benchcmp.Invoker(b, startRunner(b, fn, 1))
	em := benchcmp.Invoker(b, startRIE(b, rie, fn))
	nf := benchcmp.Invoker(b, startRunner(b, fn, 1, runner.WithFreeze(false)))
	res := benchcmp.Compare(b, benchcmp.C("lambdabridge", lb), benchcmp.C("aws-lambda-rie", em), benchcmp.C("lambdabridge-nofreeze", nf))
	lbRate, emRate := 1e9/res.NsOp[0], 1e9/res.NsOp[1]
	b.ReportMetric(lbRate, "lambdabridge-inv/s")
	b.ReportMetric(emRate, "aws-lambda-rie-inv/s")
	benchcmp.Note(b, fmt.Sprintf("lambdabridge %.0f inv/s, aws-lambda-rie %.0f inv/s: lambdabridge vs aws-lambda-rie %.2fx (--no-freeze %.0f inv/s)",
		lbRate, emRate, res.X[1], 1e9/res.NsOp[2]))
}

// BenchmarkConcurrency is invocations per second through lambdabridge
// alone with 2 and 4 callers and as many environments (the emulator runs
// one invocation at a time).
func BenchmarkConcurrency(b *testing.B) {
	_, fn := binaries(b)
	for _, c := range []int{1, 2, 4} {
		b.Run("lambdabridge/concurrency="+strconv.Itoa(c), func(b *testing.B) {
			call := benchcmp.Invoker(b, startRunner(b, fn, c))
			var wg sync.WaitGroup
			for range c { // cold starts
				wg.Go(call)
			}
			wg.Wait()
			var next atomic.Int64
			b.ResetTimer()
			start := time.Now()
			for range c {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						call()
					}
				})
			}
			wg.Wait()
			rate := float64(b.N) / time.Since(start).Seconds()
			b.ReportMetric(rate, "inv/s")
			benchcmp.Note(b, fmt.Sprintf("lambdabridge %.0f inv/s", rate))
		})
	}
}
