package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReport(t *testing.T) {
	for _, tt := range []struct {
		name   string
		in     string
		want   string
		failed bool
	}{
		{
			name: "pass and skip",
			in: `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"--- PASS: TestA (0.00s)\n"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestB","Output":"=== RUN   TestB\n"}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: needs node\n"}
{"Action":"output","Package":"p","Test":"TestB","Output":"--- SKIP: TestB (0.00s)\n"}
{"Action":"skip","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Output":"PASS\n"}
{"Action":"output","Package":"p","Output":"ok  \tp\t0.1s\n"}
{"Action":"pass","Package":"p"}
{"Action":"output","Package":"q","Output":"?   \tq\t[no test files]\n"}
{"Action":"skip","Package":"q"}
`,
			want: "ok  \tp\t0.1s\n?   \tq\t[no test files]\n\nskipped tests (1):\n  p TestB: b_test.go:9: needs node\n",
		},
		{
			name: "failing test and build failure",
			in: `{"Action":"output","Package":"p","Test":"TestC","Output":"=== RUN   TestC\n"}
{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:3: boom\n"}
{"Action":"output","Package":"p","Test":"TestC","Output":"--- FAIL: TestC (0.00s)\n"}
{"Action":"fail","Package":"p","Test":"TestC"}
{"Action":"output","Package":"p","Output":"FAIL\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.1s\n"}
{"Action":"fail","Package":"p"}
{"ImportPath":"r","Action":"build-output","Output":"r/x.go:1:1: syntax error\n"}
{"ImportPath":"r","Action":"build-fail"}
not json: printed as it is
`,
			want:   "    c_test.go:3: boom\n--- FAIL: TestC (0.00s)\nFAIL\nFAIL\tp\t0.1s\nr/x.go:1:1: syntax error\nnot json: printed as it is\n",
			failed: true,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			r := &report{out: &out, output: map[string][]string{}}
			if err := r.read(strings.NewReader(tt.in)); err != nil {
				t.Fatal(err)
			}
			r.summary()
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			if r.failed != tt.failed {
				t.Errorf("failed = %v, want %v", r.failed, tt.failed)
			}
		})
	}
}
