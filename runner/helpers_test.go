package runner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/metric"
)

var (
	goFnOnce sync.Once
	goFnPath string
	goFnErr  error
	buildDir string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// goBootstrap builds testdata/gofn (aws-lambda-go) once per test binary.
func goBootstrap(tb testing.TB) string {
	tb.Helper()
	goFnOnce.Do(func() {
		dir, err := os.MkdirTemp("", "runner-gofn-")
		if err != nil {
			goFnErr = err
			return
		}
		buildDir = dir
		out := filepath.Join(dir, "gofn", "bootstrap")
		cmd := exec.Command("go", "build", "-o", out, "./testdata/gofn")
		if b, err := cmd.CombinedOutput(); err != nil {
			goFnErr = fmt.Errorf("go build testdata/gofn: %v\n%s", err, b)
			return
		}
		goFnPath = out
	})
	if goFnErr != nil {
		tb.Fatal(goFnErr)
	}
	return goFnPath
}

func shellBootstrap(tb testing.TB) string {
	tb.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		tb.Skip("curl not installed: the shell custom runtime needs it")
	}
	p, err := filepath.Abs("testdata/shell/bootstrap")
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func goDef(tb testing.TB, opts ...function.Option) function.Definition {
	tb.Helper()
	d, err := function.FromHandler(goBootstrap(tb), append([]function.Option{function.WithName("gofn")}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// recorder is a LogSink and PlatformSink that keeps everything.
type recorder struct {
	mu     sync.Mutex
	lines  []recLine
	points []metric.Point
}

type recLine struct {
	o      metric.Origin
	stream string
	text   string
}

func (r *recorder) Line(o metric.Origin, stream string, line []byte) {
	r.mu.Lock()
	r.lines = append(r.lines, recLine{o, stream, string(line)})
	r.mu.Unlock()
}

func (r *recorder) Platform(p *metric.Point) {
	r.mu.Lock()
	r.points = append(r.points, p.Clone())
	r.mu.Unlock()
}

// sum adds the values of the points called name (counters), or counts them
// (histograms with count=true).
func (r *recorder) sum(name string) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := 0.0
	for _, p := range r.points {
		if p.Name == name {
			for _, v := range p.Values {
				s += v
			}
		}
	}
	return s
}

func (r *recorder) values(name string) []float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var vs []float64
	for _, p := range r.points {
		if p.Name == name {
			vs = append(vs, p.Values...)
		}
	}
	return vs
}

// linesOf returns the lines tied to request id.
func (r *recorder) linesOf(id string) []recLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recLine
	for _, l := range r.lines {
		if l.o.RequestID == id {
			out = append(out, l)
		}
	}
	return out
}

func (r *recorder) text(id string) string {
	var b strings.Builder
	for _, l := range r.linesOf(id) {
		b.WriteString(l.stream + "\t" + l.text + "\n")
	}
	return b.String()
}

func newTestRunner(tb testing.TB, defs []function.Definition, opts ...Option) (*Runner, *recorder) {
	tb.Helper()
	rec := &recorder{}
	r, err := New(defs, append([]Option{WithLogSink(rec), WithPlatformSink(rec)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		r.Close()
		checkNoChildren(tb)
	})
	return r, rec
}

// checkNoChildren fails when a child process of the test (zombie or not) is
// left after Close.
func checkNoChildren(tb testing.TB) {
	tb.Helper()
	var left []string
	for range 50 {
		left = children()
		if len(left) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Errorf("child processes left after Close: %v", left)
}

// children lists the test process's children as "pid:state".
func children() []string {
	me := os.Getpid()
	names, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []string
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		if pp, _ := strconv.Atoi(f[1]); pp == me {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(n, "/proc/"), "/stat")+":"+f[0])
		}
	}
	return out
}

// procState is the state letter of pid (R, S, T, Z...).
func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	return f[0]
}

func invoke(tb testing.TB, r *Runner, name, payload string) *Result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := r.Invoke(ctx, name, Request{Payload: []byte(payload)})
	if err != nil {
		tb.Fatalf("invoke %s: %v", payload, err)
	}
	return res
}
