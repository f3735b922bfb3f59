package extension_test

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
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
// and with invocations 20 ms apart (paced-added-ms), what it adds to the
// cold start's init phase (init-added-ms), the time it works
// after the function's answer (post-runtime-ms, Lambda's
// PostRuntimeExtensionsDuration), its CPU time per invocation
// (ext-cpu-us/op), how often its threads were put on a CPU per invocation
// (ext-wakeups/op), its threads (ext-threads), its resident memory after
// the invocations (ext-rss-MB) and its own init time as it exports it,
// from its process's start (ext-init-ms, the mean over its environments,
// and ext-init-max-ms), beside the CPU time it used through its cold start
// (ext-init-cpu-ms, the mean: the rest of its init is waiting).
// Each metric is prefixed with its variant.
//
// The variants take their invocations in turns (benchBlock), each turn
// in a new environment (a cold start, then invocations back to back, then
// paced ones): the machine's drift falls on all variants alike, and so
// does the CPU bandwidth limit's. At 256 MB an environment's cgroup may
// run 14.5 ms in each 100 ms period, and how its invocations fall against
// its period is its own: two environments of the same variant, side by
// side, differed by 1 ms per invocation in a run of 2,000 (at 1,769 MB by
// 0.008 ms), so each variant's figures are means over several
// environments: at 256 MB turns of 250 invocations, 16 environments per
// variant at -benchtime 4000x. A turn lasts more than a second: the
// periodic strategy's Telemetry API batches come about once a second (and
// only when the environment is thawed), so in turns of 50 invocations its
// work on them fell after the back-to-back invocations and went
// uncounted; at 1769 MB an invocation takes about a millisecond, so a
// turn there is 1,000. The extension's CPU is
// counted over the back-to-back and the paced invocations of a turn.
//
// Most of the extension's CPU time per invocation is its threads being
// woken, so the sub-benchmark wakeup first reports what a wakeup costs on
// this machine: two threads waking each other through pipes within one
// CPU and across two. On a nested virtual machine the second can cost
// tens of times the first, and the extension with it; make bench runs the
// benchmark again with everything on one CPU (taskset -c 1), where no
// wakeup crosses CPUs.
//
// The freezer is the other cost that is this machine's: on Linux 6.1 and
// later the cgroup v1 freezer wakes a thread waiting in epoll_wait (the Go
// runtime's poller) to stop it and again to let it go on, at each
// invocation; before 6.1, as on the Linux 4.14 seen inside Lambda, it
// stayed asleep (runner.Stats.FreezeWakesPollers). So the function alone
// and the periodic strategy also run never frozen (the -nofreeze pair,
// periodic-nofreeze measured against without-nofreeze): what the
// extension adds where the freezer wakes none of its threads, as such a
// kernel's freezer does: when the environment is frozen they all wait in
// futex, nanosleep or epoll_wait. And periodic-eager is the periodic
// strategy reading each DogStatsD datagram as it comes
// (LAMBDABRIDGE_DOGSTATSD_POLL=0), beside the polled socket it ships with.
//
//	go test -run '^$' -bench Extension -benchtime 4000x ./extension
func BenchmarkExtension(b *testing.B) {
	// What a wakeup costs here, within a CPU and across two (see above).
	b.Run("wakeup", func(b *testing.B) {
		for _, c := range []struct {
			name string
			a, b int
		}{{"same-cpu", 0, 0}, {"cross-cpu", 0, 1}} {
			if d, ok := wakeupRoundTrip(c.a, c.b, max(b.N, 1000)); ok {
				b.ReportMetric(float64(d.Nanoseconds())/1000, c.name+"-roundtrip-us")
			}
		}
	})
	prom := testenv.StartPrometheus(b)
	// Lambda gives 1 vCPU at 1769 MB, proportionally less below: the
	// extension shares the function's CPU.
	for _, mem := range []int{256, 1769} {
		b.Run(strconv.Itoa(mem)+"MB", func(b *testing.B) { benchVariants(b, prom, mem) })
	}
}

// benchBlock is how many invocations back to back a variant takes in each
// environment: more than a second of them (see BenchmarkExtension).
func benchBlock(mem int) int {
	if mem < 1024 {
		return 250
	}
	return 1000
}

const (
	// pacedPerBlock is how many invocations 20 ms apart it takes after.
	pacedPerBlock = 5
)

// benchVariant is one variant and what it measured.
type benchVariant struct {
	name string
	def  function.Definition
	// noFreeze: its environments are never frozen; base is the variant
	// its added figures are measured against.
	noFreeze bool
	base     *benchVariant
	marker   string         // LAMBDABRIDGE_BENCH_ID: finds its extension process
	r        *runner.Runner // the last environment's
	// sums: init phases of the cold starts, Durations back to back and
	// after the runtime's answer, paced Durations, the extension's CPU
	// time and scheduling while back to back
	init, total, post, paced time.Duration
	cpu, initCPU             time.Duration
	cpuEnvs                  int // environments whose CPU was read
	runs                     int64
	envs, threads            int
	instances                []string // the environments whose extension ran
}

// machineSteal starts counting the time the machine's hypervisor kept its
// CPUs from it (steal in /proc/stat), and returns a function that gives it
// as a percentage of all CPU time since: on a virtual machine a process's
// time to its first next includes it.
func machineSteal() func() (float64, bool) {
	read := func() (steal, total int64, ok bool) {
		b, err := os.ReadFile("/proc/stat")
		if err != nil {
			return 0, 0, false
		}
		line, _, _ := bytes.Cut(b, []byte("\n"))
		f := strings.Fields(string(line))
		if len(f) < 9 || f[0] != "cpu" {
			return 0, 0, false
		}
		for i, s := range f[1:9] { // user ... steal
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return 0, 0, false
			}
			total += n
			if i == 7 {
				steal = n
			}
		}
		return steal, total, true
	}
	s0, t0, ok0 := read()
	return func() (float64, bool) {
		s1, t1, ok1 := read()
		if !ok0 || !ok1 || t1 == t0 {
			return 0, false
		}
		return 100 * float64(s1-s0) / float64(t1-t0), true
	}
}

func benchVariants(b *testing.B, prom *testenv.Prometheus, mem int) {
	// "registered only": the extension registers and calls next but
	// delivers nothing (no sink): what any extension costs in the runner.
	// The -nofreeze pair: the function alone and with the periodic
	// strategy, never frozen (see BenchmarkExtension).
	var vs []*benchVariant
	for _, name := range []string{"without", "registered-only", "invocation", "periodic", "without-nofreeze", "periodic-nofreeze", "periodic-eager"} {
		v := &benchVariant{name: name, marker: name + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
		flush, nofreeze := strings.CutSuffix(name, "-nofreeze")
		flush, eager := strings.CutSuffix(flush, "-eager")
		v.noFreeze = nofreeze
		env := map[string]string{
			"LAMBDABRIDGE_REMOTE_WRITE_URL": prom.RemoteWriteURL(),
			"LAMBDABRIDGE_FLUSH":            flush,
			"LAMBDABRIDGE_BENCH_ID":         v.marker,
		}
		v.def = exampleDef(b, env, 10*time.Second)
		v.def.MemoryMB = mem
		if eager {
			v.def.Env["LAMBDABRIDGE_DOGSTATSD_POLL"] = "0"
		}
		switch flush {
		case "without": // the same mount namespace, an empty layer
			v.def.Layers = []string{b.TempDir()}
		case "registered-only":
			delete(v.def.Env, "LAMBDABRIDGE_REMOTE_WRITE_URL")
		}
		if len(vs) > 0 {
			v.base = vs[0] // "without"
		}
		if nofreeze && flush != "without" {
			v.base = vs[len(vs)-1] // "without-nofreeze", just before
		}
		vs = append(vs, v)
	}
	defer func() {
		for _, v := range vs {
			if v.r != nil {
				v.r.Close()
			}
		}
	}()
	b.ResetTimer()
	steal := machineSteal()
	for done := 0; done < b.N; done += benchBlock(mem) {
		for _, v := range vs {
			v.block(b, min(benchBlock(mem), b.N-done))
		}
	}
	b.StopTimer()
	if pct, ok := steal(); ok {
		b.ReportMetric(pct, "machine-steal-%")
	}
	ms := func(d time.Duration, n int) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }
	paced := vs[0].envs * pacedPerBlock
	for _, v := range vs {
		metric := func(value float64, unit string) { b.ReportMetric(value, v.name+"-"+unit) }
		metric(ms(v.init, v.envs), "init-ms")
		metric(ms(v.total, b.N), "invoke-ms")
		metric(ms(v.post, b.N), "post-runtime-ms") // the runtime's own time after its answer too
		if strings.HasPrefix(v.name, "without") {
			continue
		}
		base := v.base
		metric(ms(v.total-base.total, b.N), "added-ms")
		// What the extension adds to a cold start's init phase (Lambda's
		// Init Duration): the function's init and the extension's share
		// the CPU share, so this is more than the extension's own init
		// time once their CPU time together passes the 14.5 ms a 256 MB
		// environment may run in a period.
		metric(ms(v.init, v.envs)-ms(base.init, base.envs), "init-added-ms")
		// Paced: as a function that is not busy all the time gets its
		// invocations; the extension's work between them is not charged
		// to the next one.
		metric(ms(v.paced-base.paced, paced), "paced-added-ms")
		// Back to back the environment's CPU share is used up, so all the
		// extension's work is charged to the invocations: at 256 MB one
		// CPU millisecond of the extension's takes about 7 of the
		// environment's. Each time one of its threads is scheduled costs
		// a context switch: the cgroup freezer wakes every thread twice
		// per invocation (to stop it, then to let it go on).
		if n := float64(b.N + paced); v.cpu > 0 {
			metric(float64(v.cpu.Microseconds())/n, "ext-cpu-us/op")
			metric(float64(v.runs)/n, "ext-wakeups/op")
			metric(float64(v.threads), "ext-threads")
		}
		if v.cpuEnvs > 0 {
			metric(ms(v.initCPU, v.cpuEnvs), "ext-init-cpu-ms")
		}
		if rss, _, ok := extensionProc(v.marker); ok {
			metric(float64(rss)/(1<<20), "ext-rss-MB")
		}
		if len(v.instances) > 0 && v.name != "registered-only" {
			v.r.Close() // SHUTDOWN: the last extension delivers its init time
			v.r = nil
			if inits, ok := extensionInits(prom, v.instances); ok {
				var sum float64
				for _, ms := range inits {
					sum += ms
				}
				metric(sum/float64(len(inits)), "ext-init-ms")
				metric(slices.Max(inits), "ext-init-max-ms")
			}
		}
	}
}

// block runs one environment of v: a cold start, n invocations back to
// back, then pacedPerBlock 20 ms apart. The environment before is shut
// down first.
func (v *benchVariant) block(b *testing.B, n int) {
	if v.r != nil {
		v.r.Close()
	}
	r, err := runner.New([]function.Definition{v.def}, runner.WithLogSink(&logs{}), runner.WithFreeze(!v.noFreeze))
	if err != nil {
		b.Fatal(err)
	}
	v.r = r
	v.envs++
	v.init += invoke(b, r, `{}`).InitDuration
	// Through the cold start: its init and its part of the first
	// invocation (with the invocation strategy, its first flush).
	cpu0, runs0, _ := processCPU(v.marker)
	if cpu0 > 0 {
		v.initCPU += cpu0
		v.cpuEnvs++
	}
	d, post := invokeN(b, r, n, 0)
	v.total += d
	v.post += post
	d, _ = invokeN(b, r, pacedPerBlock, 20*time.Millisecond)
	v.paced += d
	if cpu, runs, threads := processCPU(v.marker); cpu > 0 && cpu0 > 0 {
		v.cpu += cpu - cpu0
		v.runs += runs - runs0
		v.threads = max(v.threads, threads)
	}
	if _, instance, ok := extensionProc(v.marker); ok {
		v.instances = append(v.instances, instance)
	}
}

// extensionInits queries the init times the extensions of the
// environments delivered at their SHUTDOWN, in milliseconds.
func extensionInits(prom *testenv.Prometheus, instances []string) ([]float64, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q := `lambdabridge_extension_init_seconds{lambda_environment=~"(` + strings.Join(instances, "|") + `)-.*"} * 1000`
	for ctx.Err() == nil {
		v, err := prom.Query(ctx, q)
		if err == nil && len(v) == len(instances) {
			return slices.Collect(maps.Values(v)), true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, false
}

// invokeN invokes the example function n times, pause apart, and returns
// the sums of their Durations and of their times after the runtime's
// answer (Lambda's PostRuntimeExtensionsDuration).
func invokeN(b *testing.B, r *runner.Runner, n int, pause time.Duration) (total, post time.Duration) {
	for range n {
		time.Sleep(pause)
		res := invoke(b, r, `{}`)
		if res.Failed() || res.ColdStart {
			b.Fatalf("invocation: cold %v, %s %s", res.ColdStart, res.ErrorType, res.Payload)
		}
		total += res.Duration
		post += res.Duration - res.RuntimeDuration
	}
	return total, post
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

// coldSettle is the pause between an environment's end and the next cold
// start in BenchmarkExtensionColdStart.
const coldSettle = 200 * time.Millisecond

// BenchmarkExtensionColdStart measures cold starts alone, many of them: each
// op is one cold start of each variant in turns (the function with an empty
// layer, and with the extension and either strategy), one invocation, and
// SHUTDOWN, after which the extension has delivered its init time. It
// reports the distribution over the environments: the median, the 90th
// percentile and the slowest of the extension's init
// (lambdabridge_extension_init_seconds: from its process's start to its
// first next) and of the init phase (Lambda's Init Duration), the latter
// beside the function's without the extension. BenchmarkExtension sees four
// cold starts per variant at 4,000 invocations; the goal of an init under
// 20 ms is about every environment.
//
//	go test -run '^$' -bench ExtensionColdStart -benchtime 40x ./extension
func BenchmarkExtensionColdStart(b *testing.B) {
	prom := testenv.StartPrometheus(b)
	for _, mem := range []int{256, 1769} {
		b.Run(strconv.Itoa(mem)+"MB", func(b *testing.B) {
			type variant struct {
				name, marker string
				def          function.Definition
				inits        []float64 // init phases, ms
				instances    []string
			}
			var vs []*variant
			for _, name := range []string{"without", "periodic", "invocation"} {
				v := &variant{name: name, marker: name + "-cold-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
				v.def = exampleDef(b, map[string]string{
					"LAMBDABRIDGE_REMOTE_WRITE_URL": prom.RemoteWriteURL(),
					"LAMBDABRIDGE_FLUSH":            name,
					"LAMBDABRIDGE_BENCH_ID":         v.marker,
				}, 10*time.Second)
				v.def.MemoryMB = mem
				if name == "without" {
					v.def.Layers = []string{b.TempDir()}
				}
				vs = append(vs, v)
			}
			steal := machineSteal()
			// The variants take turns so that each extension variant follows
			// the function without one in every other op and the other
			// extension variant in the rest (each op ends with without), and
			// each start waits coldSettle after the environment before it
			// ended. Back to back, an extension's start right after the end
			// of an environment without one took 3-5 ms more (medians, on one
			// CPU too): that environment's end returns sooner (no extension's
			// SHUTDOWN to wait for), and its processes' teardown overlapped
			// the start; with 200 ms between them the difference was gone. In
			// a rotation (op+i)%3 periodic followed without in two ops of
			// three and invocation in one, so its median was 3-4 ms above.
			orders := [][]int{{1, 2, 0}, {2, 1, 0}}
			for op := 0; b.Loop(); op++ {
				for _, i := range orders[op%len(orders)] {
					v := vs[i]
					r, err := runner.New([]function.Definition{v.def}, runner.WithLogSink(&logs{}))
					if err != nil {
						b.Fatal(err)
					}
					res := invoke(b, r, `{}`)
					v.inits = append(v.inits, float64(res.InitDuration.Microseconds())/1000)
					if _, instance, ok := extensionProc(v.marker); ok {
						v.instances = append(v.instances, instance)
					}
					r.Close()
					time.Sleep(coldSettle)
				}
			}
			b.StopTimer()
			if pct, ok := steal(); ok {
				b.ReportMetric(pct, "machine-steal-%")
			}
			pct := func(xs []float64, p float64) float64 {
				xs = slices.Sorted(slices.Values(xs))
				return xs[min(len(xs)-1, int(p*float64(len(xs))))]
			}
			base := pct(vs[0].inits, 0.5)
			for _, v := range vs {
				metric := func(value float64, unit string) { b.ReportMetric(value, v.name+"-"+unit) }
				metric(pct(v.inits, 0.5), "init-p50-ms")
				metric(pct(v.inits, 0.9), "init-p90-ms")
				metric(slices.Max(v.inits), "init-max-ms")
				if v == vs[0] {
					continue
				}
				metric(pct(v.inits, 0.5)-base, "init-added-p50-ms")
				inits, ok := extensionInits(prom, v.instances)
				if !ok || len(v.instances) != len(v.inits) {
					b.Fatalf("%s: the init times of %d of %d extensions in Prometheus", v.name, len(inits), len(v.inits))
				}
				metric(pct(inits, 0.5), "ext-init-p50-ms")
				metric(pct(inits, 0.9), "ext-init-p90-ms")
				metric(slices.Max(inits), "ext-init-max-ms")
				over := 0
				for _, ms := range inits {
					if ms >= 20 {
						over++
					}
				}
				metric(float64(over), "ext-init-over-20ms")
			}
		})
	}
}
