package testenv

import (
	"fmt"
	"strings"
	"testing"
)

// recordingTB records Skip and Fatalf instead of stopping the test.
type recordingTB struct {
	testing.TB
	skipped, fatal string
}

func (r *recordingTB) Helper()                      {}
func (r *recordingTB) Skip(args ...any)             { r.skipped = strings.TrimSpace(fmt.Sprint(args...)) }
func (r *recordingTB) Fatalf(f string, args ...any) { r.fatal = fmt.Sprintf(f, args...) }

func TestLookPathPolicy(t *testing.T) {
	const missing = "lambdabridge-no-such-backend"
	t.Run("missing, no CI: skip naming the package", func(t *testing.T) {
		t.Setenv("CI", "")
		r := &recordingTB{TB: t}
		if got := LookPath(r, "some-debian-pkg", missing); got != "" {
			t.Fatalf("LookPath = %q", got)
		}
		if r.fatal != "" || !strings.Contains(r.skipped, `"some-debian-pkg"`) || !strings.Contains(r.skipped, missing) {
			t.Fatalf("skip %q, fatal %q", r.skipped, r.fatal)
		}
	})
	t.Run("missing under CI: failure", func(t *testing.T) {
		t.Setenv("CI", "true")
		r := &recordingTB{TB: t}
		LookPath(r, "some-debian-pkg", missing)
		if !strings.Contains(r.fatal, "CI is set") {
			t.Fatalf("fatal %q, want a failure under CI", r.fatal)
		}
	})
	t.Run("alternative absolute path", func(t *testing.T) {
		r := &recordingTB{TB: t}
		if got := LookPath(r, "coreutils", missing, "/nonexistent/x", "/bin/sh"); got != "/bin/sh" || r.skipped != "" {
			t.Fatalf("LookPath = %q (skip %q)", got, r.skipped)
		}
	})
}
