package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// BenchmarkTailMixedLog runs the built `lambdabridge tail` on a generated
// mixed log (ordinary lines, EMF, MONITORING and Datadog JSON lines, 1%
// broken) of LAMBDABRIDGE_BENCH_MB megabytes (default 100), or
// LAMBDABRIDGE_BENCH_GB gigabytes (1 for the 1 GB figure), and reports its lines/s, MB/s and peak resident memory
// (maxrss of the process).
func BenchmarkTailMixedLog(b *testing.B) {
	mb := 100
	for _, v := range []struct {
		name string
		mb   int
	}{{"LAMBDABRIDGE_BENCH_GB", 1024}, {"LAMBDABRIDGE_BENCH_MB", 1}} {
		if s := os.Getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				b.Fatalf("%s=%q: want a positive whole number", v.name, s)
			}
			mb = n * v.mb
		}
	}
	dir := b.TempDir()
	bin := filepath.Join(dir, "lambdabridge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	logPath := filepath.Join(dir, "mixed.log")
	size, lines := writeMixedLog(b, logPath, int64(mb)<<20)
	b.ResetTimer()
	var peak int64
	for b.Loop() {
		cmd := exec.Command(bin, "tail", "--quiet", "--listen", "none", "--now", goldenNow, logPath)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("tail: %v\n%s", err, stderr.String())
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peak = max(peak, ru.Maxrss*1024)
		}
	}
	b.StopTimer()
	per := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(lines)/per, "lines/s")
	b.ReportMetric(float64(size)/per/1e6, "MB/s")
	b.ReportMetric(float64(peak)/1e6, "peak-RSS-MB")
	b.ReportMetric(float64(size)/1e6, "log-MB")
}

// writeMixedLog writes about size bytes of bigMixedLog's lines to path, a
// 16 MB block repeated, and returns the bytes and lines written.
func writeMixedLog(b *testing.B, path string, size int64) (written, lines int64) {
	block, _, _, _, _ := bigMixedLog(16 << 20)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for written < size {
		chunk := block
		if rest := size - written; rest < int64(len(chunk)) {
			chunk = chunk[:bytes.LastIndexByte(chunk[:rest], '\n')+1]
		}
		if len(chunk) == 0 {
			break
		}
		w.Write(chunk)
		written += int64(len(chunk))
		lines += int64(bytes.Count(chunk, []byte("\n")))
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return written, lines
}
