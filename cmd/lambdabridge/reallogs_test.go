package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// `run --logs all` of the example function, its console captured to a file
// and read back by validate, tail and convert: no false errors from the
// console prefix, tail finds every family run had that a log can show (all
// but the DogStatsD ones, sent over UDP), and the platform metrics of the
// REPORT lines count run's invocations. (platform's
// TestRunLogGivesRunsPlatformMetrics compares every value.)
func TestRunLogReadBack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs examples/go-emf")
	}
	dir := t.TempDir()
	bootstrap := e2eBuildGoEmf(t, dir)
	runCat := filepath.Join(dir, "run.json")
	_, console, code := runCmd(t, "", "run", "--handler", bootstrap, "--name", "GoEmf", "--invocations", "5",
		"--logs", "all", "--listen", "none", "--dogstatsd-addr", "127.0.0.1:0", "--progress", "0", "--catalog", runCat)
	if code != exitOK {
		t.Fatalf("run exit %d:\n%s", code, console)
	}
	log := filepath.Join(dir, "run.log")
	if err := os.WriteFile(log, []byte(console), 0o644); err != nil {
		t.Fatal(err)
	}

	vout, _, vcode := runCmd(t, "", "validate", log)
	if vcode != exitOK || strings.Contains(vout, "error:") || !strings.Contains(vout, "platform 10") {
		t.Errorf("validate of run's log: exit %d, want 0 errors and 10 platform lines (5 START, 5 REPORT):\n%s", vcode, vout)
	}

	tailCat := filepath.Join(dir, "tail.json")
	if _, terr, tcode := runCmd(t, "", "tail", log, "--listen", "none", "--catalog", tailCat); tcode != exitOK {
		t.Fatalf("tail exit %d:\n%s", tcode, terr)
	}
	want, tailed := familyNames(t, runCat, "dogstatsd"), familyNames(t, tailCat, "")
	if len(want) < 15 || !slices.Equal(want, tailed) {
		t.Errorf("families of run (DogStatsD ones left out)\n  %v\nand of tail of its log\n  %v", want, tailed)
	}

	out, _, ccode := runCmd(t, "", "convert", log)
	for _, line := range []string{
		`lambda_invocations_total{function_name="GoEmf"} 5`,
		`lambda_cold_starts_total{function_name="GoEmf"} 1`,
		`lambda_duration_seconds_count{function_name="GoEmf"} 5`,
		`lambda_errors_total{function_name="GoEmf"} 0`,
	} {
		if ccode != exitOK || !strings.Contains(out, line+"\n") {
			t.Errorf("convert of run's log (exit %d) lacks %s", ccode, line)
		}
	}
}

// familyNames are the families of a catalog file, sorted, but for those
// only the format without has (the formats a log cannot show).
func familyNames(t *testing.T, catalogFile, without string) []string {
	t.Helper()
	b, err := os.ReadFile(catalogFile)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Families []struct {
			Name    string
			Sources []struct{ Format string }
		}
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range c.Families {
		if len(f.Sources) == 1 && f.Sources[0].Format == without {
			continue
		}
		names = append(names, f.Name)
	}
	slices.Sort(names)
	return names
}
