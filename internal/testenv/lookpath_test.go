package testenv

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lambdabridge/lambdabridge/compare/backend"
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

// TestNeedPolicy checks how a backend's start error ends a test: a missing
// binary skips (fails under CI), any other error fails.
func TestNeedPolicy(t *testing.T) {
	_, missing := backend.LookPath("some-debian-pkg", "lambdabridge-no-such-backend")
	tests := []struct {
		name, ci      string
		err           error
		skip, failure bool
	}{
		{"started", "", nil, false, false},
		{"missing, no CI", "", missing, true, false},
		{"missing under CI", "true", missing, false, true},
		{"failed start", "", errors.New("prometheus exited before it was ready"), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := &recordingTB{TB: t}
			need(r, "backend", tt.err)
			if (r.skipped != "") != tt.skip || (r.fatal != "") != tt.failure {
				t.Fatalf("skip %q, fatal %q; want skip %v, failure %v", r.skipped, r.fatal, tt.skip, tt.failure)
			}
			if tt.skip && !strings.Contains(r.skipped, "some-debian-pkg") {
				t.Errorf("skip %q does not name the Debian package", r.skipped)
			}
		})
	}
}
