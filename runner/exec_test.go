package runner

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/metric"
)

func execDef(t *testing.T, mode string) function.Definition {
	t.Helper()
	d, err := function.FromHandler("testdata/exec/script.sh", function.WithName("script"), function.WithExec(true),
		function.WithTimeout(2*time.Second), function.WithEnv(map[string]string{"SCRIPT_MODE": mode}))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestExecLogLines checks that a huge line, invalid UTF-8 and a last line
// without newline never lose the lines around them, and that every line is
// tied to its request.
func TestExecLogLines(t *testing.T) {
	r, rec := newTestRunner(t, []function.Definition{execDef(t, "")}, WithMaxLineSize(1<<20))
	res := invoke(t, r, "script", `{"k":"v"}`)
	if res.Failed() || string(res.Payload) != "null" || !res.ColdStart {
		t.Fatalf("%+v", res)
	}
	var stdout []string
	stderr := 0
	for _, l := range rec.linesOf(res.RequestID) {
		switch l.stream {
		case StreamStdout:
			s := l.text
			if strings.Trim(s, "x") == "" {
				s = "x*" + itoa(len(s))
			}
			stdout = append(stdout, s)
		case StreamStderr:
			stderr++
		}
		if l.o.Function != "script" || l.o.Environment == "" || l.o.Line == 0 {
			t.Errorf("origin %+v", l.o)
		}
	}
	want := []string{"first", "x*1048576", "x*1048576", "x*902848", "middle", "bad \xff\xfe utf8", `event: {"k":"v"}`, "last-no-newline"}
	if strings.Join(stdout, "|") != strings.Join(want, "|") {
		t.Errorf("stdout lines:\n%q\nwant\n%q", stdout, want)
	}
	if stderr != 1 {
		t.Errorf("%d stderr lines", stderr)
	}
	reportOf(t, rec, res.RequestID)
}

func TestExecFailureAndTimeout(t *testing.T) {
	r, rec := newTestRunner(t, []function.Definition{execDef(t, "fail")})
	res := invoke(t, r, "script", `{}`)
	if res.ErrorType != "Runtime.ExitError" || !strings.Contains(string(res.Payload), "exit status 4") {
		t.Errorf("%+v %s", res, res.Payload)
	}
	if !strings.Contains(rec.text(res.RequestID), "stdout\tfailing-no-newline\n") {
		t.Errorf("last line lost:\n%s", rec.text(res.RequestID))
	}
	r.Close() // its watchdog ends before the other runner's cleanup looks for children
	r2, _ := newTestRunner(t, []function.Definition{execDef(t, "slow")})
	res = invoke(t, r2, "script", `{}`)
	if !res.TimedOut {
		t.Errorf("%+v", res)
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestExecSlowSinkLosesNoLine: while the log sink takes 3 s over one heavy
// line, the script writes 500 more lines and exits. Every one of them is
// delivered, in order, tied to its request; none is dropped.
func TestExecSlowSinkLosesNoLine(t *testing.T) {
	d, err := function.FromHandler("testdata/exec/heavy.sh", function.WithName("heavy"), function.WithExec(true), function.WithTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	slow := LogSinkFunc(func(o metric.Origin, stream string, line []byte) {
		if len(line) > 1000 {
			time.Sleep(3 * time.Second)
		}
		rec.Line(o, stream, line)
	})
	r, _ := newTestRunner(t, []function.Definition{d}, WithLogSink(slow))
	res := invoke(t, r, "heavy", `{}`)
	if res.Failed() {
		t.Fatalf("%+v %s", res, res.Payload)
	}
	var got []string
	for _, l := range rec.linesOf(res.RequestID) {
		if l.stream == StreamStdout && len(l.text) < 1000 {
			got = append(got, l.text)
		}
	}
	want := []string{"first"}
	for i := 1; i <= 500; i++ {
		want = append(want, "after "+itoa(i))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stdout lines (-want +got):\n%s", diff)
	}
	if st, _ := r.Stats("heavy"); st.LogBytesDropped != 0 {
		t.Errorf("%d log bytes dropped", st.LogBytesDropped)
	}
}
