// Command testreport reads `go test -json` on standard input, prints what
// plain `go test` prints (the ok/FAIL line of every package, the output of
// failing tests), and ends with the tests that were skipped and why.
//
//	go test -json ./... | go run ./scripts/testreport
//
// It exits 1 when a test or a build failed, so a pipeline without pipefail
// still fails.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
}

// skip is a skipped test and the reason it gave.
type skip struct{ pkg, test, reason string }

// report accumulates the stream.
type report struct {
	out    io.Writer
	output map[string][]string // per package/test: its output so far
	skips  []skip
	failed bool
}

func main() {
	r := &report{out: os.Stdout, output: map[string][]string{}}
	if err := r.read(os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	r.summary()
	if r.failed {
		os.Exit(1)
	}
}

// read handles every event; a line that is not JSON (go vet or build
// output) is printed as it is.
func (r *report) read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(r.out, sc.Text())
			continue
		}
		r.event(&e)
	}
	return sc.Err()
}

func (r *report) event(e *event) {
	key := e.Package + "\x00" + e.Test
	switch {
	case e.Action == "build-output":
		fmt.Fprint(r.out, e.Output)
	case e.Action == "build-fail":
		r.failed = true
	case e.Test == "" && e.Action == "output":
		// The package's own lines: ok/FAIL/?, and output outside tests.
		if e.Output != "PASS\n" && !strings.HasPrefix(e.Output, "=== ") {
			fmt.Fprint(r.out, e.Output)
		}
	case e.Test == "" && e.Action == "fail":
		r.failed = true
	case e.Test == "":
		// A package's own pass, skip (no test files) or start.
	case e.Action == "output":
		r.output[key] = append(r.output[key], e.Output)
	case e.Action == "fail":
		r.failed = true
		for _, l := range r.output[key] {
			if !strings.HasPrefix(l, "=== ") {
				fmt.Fprint(r.out, l)
			}
		}
		delete(r.output, key)
	case e.Action == "skip":
		r.skips = append(r.skips, skip{pkg: e.Package, test: e.Test, reason: reason(r.output[key])})
		delete(r.output, key)
	case e.Action == "pass":
		delete(r.output, key)
	}
}

// reason is what a skipped test said: its output without the framework's
// === and --- lines.
func reason(lines []string) string {
	var said []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		said = append(said, t)
	}
	if len(said) == 0 {
		return "(no reason given)"
	}
	return strings.Join(said, " ")
}

// summary lists the skipped tests, by package.
func (r *report) summary() {
	if len(r.skips) == 0 {
		return
	}
	sort.Slice(r.skips, func(i, j int) bool {
		if r.skips[i].pkg != r.skips[j].pkg {
			return r.skips[i].pkg < r.skips[j].pkg
		}
		return r.skips[i].test < r.skips[j].test
	})
	fmt.Fprintf(r.out, "\nskipped tests (%d):\n", len(r.skips))
	for _, s := range r.skips {
		fmt.Fprintf(r.out, "  %s %s: %s\n", s.pkg, s.test, s.reason)
	}
}
