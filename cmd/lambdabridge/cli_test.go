package main

import (
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHelp checks that help goes to standard output with exit 0 and shows
// the command's long description and its flags.
func TestHelp(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"app --help", []string{"--help"}, []string{"usage: lambdabridge", "Commands:", "  validate ", "Exit status (every command):"}},
		{"app help", []string{"help"}, []string{"Commands:", "  dashboard "}},
		{"run --help", []string{"run", "--help"}, []string{"usage: lambdabridge run --handler PATH", "serves Lambda's invoke API", "--invocations=N", "per-environment", "(label lambda_environment)"}},
		{"help run", []string{"help", "run"}, []string{"usage: lambdabridge run --handler PATH", "--invocations=N"}},
		{"validate -h", []string{"validate", "-h"}, []string{"usage: lambdabridge validate [--format text|json]", "(one of: text, json)"}},
		{"help after a file", []string{"validate", "x.log", "--help"}, []string{"usage: lambdabridge validate"}},
		{"compare keeps its table", []string{"help", "compare"}, []string{"  pushgateway-instance  the same with instance=<environment>"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCmd(t, "", tt.args...)
			if code != exitOK || stderr != "" {
				t.Errorf("exit %d, stderr %q; want 0 and nothing", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("help lacks %q:\n%s", w, stdout)
				}
			}
		})
	}
}

// TestUsageErrors checks that a bad command line is one line on standard
// error, with a suggestion when a name is close, and exit 2.
func TestUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"close flag", []string{"run", "--invocation", "3"}, "lambdabridge: unknown flag --invocation, did you mean --invocations?\n"},
		{"flag of another command", []string{"validate", "--remote-write", "x"}, "lambdabridge: unknown flag --remote-write\n"},
		{"close flag after a file", []string{"tail", "x.log", "--remote-wrte", "u"}, "lambdabridge: unknown flag --remote-wrte, did you mean --remote-write?\n"},
		{"close command", []string{"vaildate"}, "lambdabridge: unknown command \"vaildate\", did you mean validate?\n"},
		{"far command", []string{"frobnicate"}, "lambdabridge: unknown command \"frobnicate\" (run 'lambdabridge help')\n"},
		{"help on a close command", []string{"help", "vaildate"}, "lambdabridge: unknown command \"vaildate\", did you mean validate?\n"},
		{"missing argument", []string{"check-config"}, "lambdabridge: check-config: required argument 'FILE' not provided\n"},
		{"enum lists values", []string{"convert", "--format", "xml"}, "lambdabridge: convert: --format \"xml\": want one of prometheus, openmetrics, json\n"},
		{"argument to a command without", []string{"run", "extra"}, "lambdabridge: run: unexpected argument \"extra\"\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCmd(t, "", tt.args...)
			if code != exitUsage || stdout != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, stdout)
			}
			if diff := cmp.Diff(tt.want, stderr); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFlagsAnywhere checks that flags are read before and after the file
// arguments, and that what the std flag package accepted still works.
func TestFlagsAnywhere(t *testing.T) {
	bad := `{"_aws":{"Timestamp":"x"}}` + "\n"
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"after the file", []string{"validate", "-", "--format", "json"}, `"errors": 2`},
		{"before the file", []string{"validate", "--format", "json", "-"}, `"errors": 2`},
		{"single dash long flag", []string{"validate", "-format", "json"}, `"errors": 2`},
		{"single dash with =", []string{"validate", "-format=json", "-"}, `"errors": 2`},
		{"bool =false", []string{"validate", "--strict=false", "--format=json"}, `"errors": 2`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCmd(t, bad, tt.args...)
			if code != exitFailure || !strings.Contains(stdout, tt.want) {
				t.Errorf("exit %d (want 1), stdout lacks %q:\n%s\nstderr:\n%s", code, tt.want, stdout, stderr)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	c := newCLI(&Main{})
	got := c.normalize([]string{"tail", "-listen", "none", "--v", "-", "-strict=false", "--serve=false", "-x", "--", "-listen"})
	want := []string{"tail", "--listen", "none", "-v", "-", "--no-strict", "--no-serve", "-x", "--", "-listen"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("normalize (-want +got):\n%s", diff)
	}
	// A value flag takes a negative number as its value (for its check to
	// name the rule), not as short flags; a boolean flag does not.
	got = c.normalize([]string{"run", "--memory", "-5", "-concurrency", "-1", "--serve", "-1"})
	want = []string{"run", "--memory=-5", "--concurrency=-1", "--serve", "-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("normalize negative values (-want +got):\n%s", diff)
	}
	// --quiet is a duration in compare, a boolean elsewhere: left as given.
	if got := c.normalize([]string{"compare", "--quiet=0"}); got[1] != "--quiet=0" {
		t.Errorf("normalize(compare --quiet=0) = %q", got)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		stdout, stderr, code := runCmd(t, "", args...)
		if code != exitOK || !regexp.MustCompile(`^lambdabridge \S.*\n$`).MatchString(stdout) {
			t.Errorf("%v: exit %d stdout %q stderr %q", args, code, stdout, stderr)
		}
	}
	if version != buildVersion() || version == "" {
		t.Errorf("version %q", version)
	}
}

func TestFormatVersion(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}
	for _, tt := range []struct {
		version  string
		settings []debug.BuildSetting
		want     string
	}{
		{"v1.2.0", nil, "v1.2.0"},
		{"", nil, "(devel)"},
		{"(devel)", rev, "(devel) (revision 0123456789abcdef0123, modified)"},
		{"v0.0.0-20261201040000-0123456789ab+dirty", rev, "v0.0.0-20261201040000-0123456789ab+dirty"},
	} {
		bi := &debug.BuildInfo{Main: debug.Module{Version: tt.version}, Settings: tt.settings}
		if got := formatVersion(bi); got != tt.want {
			t.Errorf("formatVersion(%q) = %q, want %q", tt.version, got, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"invocations", "concurrency", "reserved-concurrency", "remote-write", "remote-write-interval", "events", "event"}
	for got, want := range map[string]string{
		"invocation":  ", did you mean --invocations?",
		"concurency":  ", did you mean --concurrency?",
		"remote-writ": ", did you mean --remote-write?",
		"evnets":      ", did you mean --events?",
		"zzz":         "",
		"handler":     "",
	} {
		if s := suggest(got, names, "--"); s != want {
			t.Errorf("suggest(%q) = %q, want %q", got, s, want)
		}
	}
}
