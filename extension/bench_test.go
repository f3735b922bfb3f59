package extension_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/runner"
)

// BenchmarkExtension runs the example function without the extension and
// with it (each flush strategy) in the same run, into a real Prometheus,
// and reports per variant: the cold start's init phase (init-ms), the
// invoke phase of a warm invocation (Duration, invoke-ms) and what the
// extension adds to it beside the function alone, back to back (added-ms)
// and with invocations 20 ms apart (paced-added-ms), the time it works
// after the function's answer (post-runtime-ms, Lambda's
// PostRuntimeExtensionsDuration), its CPU time per invocation
// (ext-cpu-us/op), its resident memory after the invocations (ext-rss-MB)
// and its own init time as it exports it (ext-init-ms).
//
//	go test -run '^$' -bench Extension -benchtime 200x ./extension
func BenchmarkExtension(b *testing.B) {
	prom := testenv.StartPrometheus(b)
	// Lambda gives 1 vCPU at 1769 MB, proportionally less below: the
	// extension shares the function's CPU.
	for _, mem := range []int{256, 1769} {
		b.Run(strconv.Itoa(mem)+"MB", func(b *testing.B) { benchVariants(b, prom, mem) })
	}
}

func benchVariants(b *testing.B, prom *testenv.Prometheus, mem int) {
	var base, pacedBase float64
	// "registered only": the extension registers and calls next but
	// delivers nothing (no sink): what any extension costs in the runner.
	for _, variant := range []string{"without", "registered-only", "invocation", "periodic"} {
		b.Run(variant, func(b *testing.B) {
			marker := strconv.FormatInt(time.Now().UnixNano(), 36)
			env := map[string]string{
				"LAMBDABRIDGE_REMOTE_WRITE_URL": prom.RemoteWriteURL(),
				"LAMBDABRIDGE_FLUSH":            variant,
				"LAMBDABRIDGE_BENCH_ID":         marker,
			}
			def := exampleDef(b, env, 10*time.Second)
			def.MemoryMB = mem
			switch variant {
			case "without": // the same mount namespace, an empty layer
				def.Layers = []string{b.TempDir()}
			case "registered-only":
				delete(def.Env, "LAMBDABRIDGE_REMOTE_WRITE_URL")
			}
			r, err := runner.New([]function.Definition{def}, runner.WithLogSink(&logs{}))
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			cold := invoke(b, r, `{}`)
			// Paced: invocations 20 ms apart, as a function that is not
			// busy all the time gets them; the extension's work between
			// them is not charged to the next one.
			paced, _ := invokeN(b, r, pacedInvocations, 20*time.Millisecond)
			cpu0, runs0, _ := processCPU(marker)
			b.ResetTimer()
			// Back to back: the environment's CPU share is used up, so all
			// the extension's work is charged to the invocations.
			mean, post := invokeN(b, r, b.N, 0)
			b.StopTimer()
			b.ReportMetric(float64(cold.InitDuration.Microseconds())/1000, "init-ms")
			b.ReportMetric(mean, "invoke-ms")
			b.ReportMetric(post, "post-runtime-ms") // the runtime's own time after its answer too
			if variant == "without" {
				base, pacedBase = mean, paced
				return
			}
			b.ReportMetric(mean-base, "added-ms")
			b.ReportMetric(paced-pacedBase, "paced-added-ms")
			// CPU time costs wall time in proportion to the CPU share: at
			// 256 MB one CPU millisecond of the extension's takes about 7
			// of the environment's.
			// Each time one of its threads is scheduled costs a context
			// switch: the cgroup freezer wakes every thread twice per
			// invocation (to stop it, then to let it go on).
			if cpu, runs, threads := processCPU(marker); cpu > 0 && cpu0 > 0 {
				b.ReportMetric(float64((cpu-cpu0).Microseconds())/float64(b.N), "ext-cpu-us/op")
				b.ReportMetric(float64(runs-runs0)/float64(b.N), "ext-wakeups/op")
				b.ReportMetric(float64(threads), "ext-threads")
			}
			rss, instance, ok := extensionProc(marker)
			if ok {
				b.ReportMetric(float64(rss)/(1<<20), "ext-rss-MB")
			}
			if ok && variant != "registered-only" {
				r.Close() // SHUTDOWN: the extension delivers its init time
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				for ctx.Err() == nil {
					v, err := prom.Query(ctx, `lambdabridge_extension_init_seconds{lambda_environment=~"`+instance+`-.*"} * 1000`)
					if err == nil && len(v) == 1 {
						for _, ms := range v {
							b.ReportMetric(ms, "ext-init-ms")
						}
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		})
	}
}

// pacedInvocations is how many paced invocations each variant runs.
const pacedInvocations = 50

// invokeN invokes the example function n times, pause apart, and returns
// the mean Duration and the mean time after the runtime's answer (Lambda's
// PostRuntimeExtensionsDuration), in milliseconds.
func invokeN(b *testing.B, r *runner.Runner, n int, pause time.Duration) (mean, post float64) {
	var total, after time.Duration
	for range n {
		time.Sleep(pause)
		res := invoke(b, r, `{}`)
		if res.Failed() || res.ColdStart {
			b.Fatalf("invocation: cold %v, %s %s", res.ColdStart, res.ErrorType, res.Payload)
		}
		total += res.Duration
		after += res.Duration - res.RuntimeDuration
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }
	return ms(total), ms(after)
}

// processCPU returns the CPU time the extension process of the
// environment holding LAMBDABRIDGE_BENCH_ID=marker has used and how many
// times its threads were put on a CPU (the sums of its threads' schedstat),
// and its number of threads; 0 if not found.
func processCPU(marker string) (cpu time.Duration, runs int64, threads int) {
	pid, ok := extensionPID(marker)
	if !ok {
		return 0, 0, 0
	}
	tasks, _ := filepath.Glob(filepath.Join("/proc", pid, "task", "[0-9]*", "schedstat"))
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		if f := strings.Fields(string(b)); len(f) == 3 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			n, _ := strconv.ParseInt(f[2], 10, 64)
			cpu += time.Duration(ns)
			runs += n
			threads++
		}
	}
	return cpu, runs, threads
}

// extensionPID returns the pid of the extension process whose environment
// holds LAMBDABRIDGE_BENCH_ID=marker.
func extensionPID(marker string) (string, bool) {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		cmd, _ := os.ReadFile(filepath.Join(p, "cmdline"))
		if !bytes.Contains(cmd, []byte("lambdabridge-extension")) {
			continue
		}
		env, _ := os.ReadFile(filepath.Join(p, "environ"))
		if bytes.Contains(env, []byte("LAMBDABRIDGE_BENCH_ID="+marker+"\x00")) {
			return filepath.Base(p), true
		}
	}
	return "", false
}

// extensionProc returns the resident memory and the environment id (its
// log stream's) of the extension process whose environment holds
// LAMBDABRIDGE_BENCH_ID=marker.
func extensionProc(marker string) (rss int64, instance string, ok bool) {
	if pid, found := extensionPID(marker); found {
		p := filepath.Join("/proc", pid)
		env, _ := os.ReadFile(filepath.Join(p, "environ"))
		for _, kv := range strings.Split(string(env), "\x00") {
			if s, found := strings.CutPrefix(kv, "AWS_LAMBDA_LOG_STREAM_NAME="); found {
				instance = s[strings.LastIndexByte(s, ']')+1:]
			}
		}
		status, _ := os.ReadFile(filepath.Join(p, "status"))
		for _, l := range strings.Split(string(status), "\n") {
			if f := strings.Fields(l); len(f) == 3 && f[0] == "VmRSS:" {
				kb, err := strconv.ParseInt(f[1], 10, 64)
				return kb << 10, instance, err == nil
			}
		}
	}
	return 0, "", false
}
