package runner

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdabridge/lambdabridge/metric"
)

// TestConsoleEscapes: bytes a function writes never reach the terminal as
// control sequences: tabs and valid UTF-8 stay, other controls and invalid
// bytes are shown escaped.
func TestConsoleEscapes(t *testing.T) {
	tests := []struct {
		name, line, want string
	}{
		{"plain", "hello world", "hello world"},
		{"tab kept", "a\tb", "a\tb"},
		{"utf8 kept", "héllo ✓ 日本", "héllo ✓ 日本"},
		{"ansi color", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"clear screen and title", "\x1b[2J\x1b]0;pwned\x07", `\x1b[2J\x1b]0;pwned\x07`},
		{"carriage return", "safe\rfake", `safe\x0dfake`},
		{"nul and backspace", "a\x00b\x08c", `a\x00b\x08c`},
		{"del", "a\x7fb", `a\x7fb`},
		{"c1 csi", "a\u009b31mb", `a\u009b31mb`},
		{"c1 nel", "a\u0085b", `a\u0085b`},
		{"invalid utf8", "bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"truncated rune", "ok \xe2\x9c", `ok \xe2\x9c`},
		{"bare c1 byte", "a\x9bb", `a\x9bb`},
		{"backslash kept", `C:\path "x\"y"`, `C:\path "x\"y"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			NewConsole(&out).Line(metric.Origin{Function: "fn", Environment: "env-1"}, StreamStdout, []byte(tt.line))
			if diff := cmp.Diff("[fn env-1] "+tt.want+"\n", out.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzConsoleEscape(f *testing.F) {
	for _, s := range []string{"a\tb", "\x1b[31m", "\xff", "\u009b", "日本"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		out := appendEscaped(nil, line)
		for i := 0; i < len(out); {
			r, n := decodeRune(out[i:])
			if n == 0 || (r != '\t' && isControl(r)) {
				t.Fatalf("%q: control or invalid byte left at %d in %q", line, i, out)
			}
			i += n
		}
	})
}

func TestWriteSummaryLosses(t *testing.T) {
	var out bytes.Buffer
	err := WriteSummary(&out, []Stats{
		{Function: "clean", Requests: 3, Invocations: 3, Successes: 3},
		{Function: "hello", Requests: 2, Invocations: 2, Errors: 2, Cut: 2, Refused: 1, LogBytesDropped: 65536,
			ErrorTypes: map[string]int64{ErrorTypeShutdown: 2}, FirstError: "Sandbox.Shutdown: shut down"},
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := "hello: 2 invocations cut by the shutdown (error Sandbox.Shutdown), 1 request refused while stopping, 65536 bytes of output dropped (written by a process outside an ended environment)"
	if len(lines) != 5 || lines[4] != want {
		t.Errorf("summary:\n%s\nwant last line:\n%s", out.String(), want)
	}
}

// The summary says when environments are frozen otherwise than by a cgroup
// v1 freezer, as Lambda's: each invocation then costs more CPU than there.
func TestWriteSummaryFreezer(t *testing.T) {
	for mode, caveat := range map[string]bool{"cgroup v1 freezer": false, "off": false, "cgroup v2 freezer": true, "SIGSTOP": true} {
		var out bytes.Buffer
		if err := WriteSummary(&out, []Stats{{Function: "f", Requests: 1, Invocations: 1, Successes: 1, Freeze: mode}}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(out.String(), "f: frozen by "+mode+" (no cgroup v1 freezer here): each freeze and thaw wakes every sleeping thread"); got != caveat {
			t.Errorf("%s: caveat %v, want %v:\n%s", mode, got, caveat, out.String())
		}
	}
	// The v1 freezer on Linux 6.1 and later wakes the threads in epoll_wait.
	for _, wakes := range []bool{false, true} {
		var out bytes.Buffer
		if err := WriteSummary(&out, []Stats{{Function: "f", Requests: 1, Invocations: 1, Successes: 1, Freeze: "cgroup v1 freezer", FreezeWakesPollers: wakes}}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(out.String(), "f: frozen by cgroup v1 freezer on Linux 6.1 or later: each freeze and thaw wakes every thread waiting in epoll_wait"); got != wakes {
			t.Errorf("v1 freezer waking pollers %v: caveat %v:\n%s", wakes, got, out.String())
		}
	}
}

func TestKernelAtLeast(t *testing.T) {
	for _, c := range []struct {
		release string
		want    bool
	}{
		{"6.18.44-fc-v1045", true},
		{"6.1.0-13-amd64", true},
		{"6.0.19", false},
		{"5.10.219-208.866.amzn2.x86_64", false},
		{"4.14.165-102.205.amzn2.x86_64", false},
		{"10.0", true},
		{"6.1", true},
		{"6.1-rc3", true},
		{"6", false},
		{"", false},
		{"x.y", false},
	} {
		if got := kernelAtLeast(c.release, 6, 1); got != c.want {
			t.Errorf("kernelAtLeast(%q, 6, 1) = %v, want %v", c.release, got, c.want)
		}
	}
}

// The summary shows only the functions that got requests, and for those
// that failed the errors by type (most first) and the first message, as
// the invocations recorded them (issue 9).
func TestWriteSummaryErrors(t *testing.T) {
	var st stats
	for _, res := range []*Result{
		{FunctionError: "Unhandled", ErrorType: "errorString", Payload: []byte(`{"errorMessage":"out of stock\u001b[2J","errorType":"errorString"}`)},
		{},
		{FunctionError: "Unhandled", ErrorType: "Runtime.ExitError", Payload: []byte(`{"errorMessage":"exit status 1"}`)},
		{FunctionError: "Unhandled", ErrorType: "Runtime.ExitError", Payload: []byte(`{"errorMessage":"exit status 2"}`)},
	} {
		st.record(res, 0)
	}
	hello := Stats{Function: "hello", Requests: 4, Invocations: 4, Successes: 1, Errors: st.errors,
		ErrorTypes: st.errorTypes, FirstError: st.firstError}
	var out bytes.Buffer
	if err := WriteSummary(&out, []Stats{{Function: "idle"}, hello}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := `hello: 3 errors (Runtime.ExitError 2, errorString 1); first: errorString: out of stock\x1b[2J`
	if len(lines) != 3 || lines[2] != want || strings.Contains(out.String(), "idle") {
		t.Errorf("summary:\n%s\nwant 2 table lines (no idle) then:\n%s", out.String(), want)
	}
	out.Reset()
	if err := WriteSummary(&out, []Stats{{Function: "idle"}}); err != nil || out.String() != "no function was invoked\n" {
		t.Errorf("summary of no invocation: %q %v", out.String(), err)
	}
}

func BenchmarkConsoleLine(b *testing.B) {
	line := []byte(`{"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"App","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"}]}]},"Service":"checkout","Latency":12.5}`)
	c := NewConsole(io.Discard)
	o := metric.Origin{Function: "fn", Environment: "env-1"}
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		c.Line(o, StreamStdout, line)
	}
}
