package main

import (
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/extension"
)

// BenchmarkProgramStart measures the extension's program from its exec to
// a failed registration (AWS_LAMBDA_RUNTIME_API points at a closed port,
// so it ends once every package initialized, the configuration was read,
// the session built with a remote_write sink and the listeners bound, on
// free ports), and its shutdown: the CPU it used and its minor page faults, the
// medians of b.N starts, beside an empty Go program's (testdata/emptygo),
// the floor of any Go extension, the two alternating. Both are built as
// the layer's program is (-trimpath, -s -w, CGO_ENABLED=0, the
// extension's tag).
func BenchmarkProgramStart(b *testing.B) {
	dir := b.TempDir()
	bins := map[string]string{"extension": ".", "empty-go": "./testdata/emptygo"}
	for name, pkg := range bins {
		out := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-trimpath", "-tags", extension.BuildTags, "-ldflags=-s -w", "-o", out, pkg)
		cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
		if o, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("go build %s: %v\n%s", pkg, err, o)
		}
		bins[name] = out
	}
	cpu := map[string][]time.Duration{}
	faults := map[string][]int64{}
	for b.Loop() {
		for _, name := range []string{"extension", "empty-go"} {
			cmd := exec.Command(bins[name])
			cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=127.0.0.1:1", "AWS_LAMBDA_FUNCTION_NAME=bench",
				"LAMBDABRIDGE_REMOTE_WRITE_URL=http://127.0.0.1:1/api/v1/write", // a sink: the session is built
				"LAMBDABRIDGE_DOGSTATSD_ADDR=127.0.0.1:0", "LAMBDABRIDGE_EMF_AGENT_ADDR=127.0.0.1:0"}
			_ = cmd.Run() // the extension exits 1: no Extensions API
			ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
			cpu[name] = append(cpu[name], time.Duration(ru.Utime.Nano()+ru.Stime.Nano()))
			faults[name] = append(faults[name], ru.Minflt)
		}
	}
	for name := range bins {
		slices.Sort(cpu[name])
		slices.Sort(faults[name])
		b.ReportMetric(float64(cpu[name][len(cpu[name])/2].Microseconds())/1000, name+"-cpu-p50-ms")
		b.ReportMetric(float64(cpu[name][len(cpu[name])*9/10].Microseconds())/1000, name+"-cpu-p90-ms")
		b.ReportMetric(float64(faults[name][len(faults[name])/2]), name+"-minflt-p50")
	}
	b.ReportMetric(0, "ns/op")
}
