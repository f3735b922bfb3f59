package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestParseRefusesValuesFlagsRefuse: values the flags refuse were accepted
// by the file (memory: -5 ran as 128 MB); each is now an error with its
// line and key.
func TestParseRefusesValuesFlagsRefuse(t *testing.T) {
	for _, tt := range []struct{ name, doc, want string }{
		{"memory negative", "functions:\n  - handler: ./b\n    memory: -5\n", "line 3: functions[0].memory: -5: Lambda allows 128..10240 MB"},
		{"memory too large", "functions:\n  - handler: ./a\n  - handler: ./b\n    memory: 20000\n", "line 4: functions[1].memory: 20000: Lambda allows 128..10240 MB"},
		{"memory zero", "functions:\n  - handler: ./b\n    memory: 0\n", "line 3: functions[0].memory: 0: Lambda allows"},
		{"timeout", "functions:\n  - handler: ./b\n    timeout: 1000\n", `line 3: functions[0].timeout: timeout "1000": Lambda allows 1..900 seconds`},
		{"concurrency negative", "runner:\n  concurrency: -1\n", "line 2: runner.concurrency: -1: must be at least 1 execution environment"},
		{"concurrency zero", "runner: {concurrency: 0}\n", "line 1: runner.concurrency: 0: must be at least 1"},
		{"reserved concurrency", "runner:\n  reserved_concurrency: -2\n", "line 2: runner.reserved_concurrency: -2: must be at least 0"},
		{"idle timeout negative", "runner:\n  idle_timeout: -5m\n", "line 2: runner.idle_timeout: -5m0s: must be positive"},
		{"max series negative", "aggregation:\n  max_series: -10\n", "line 2: aggregation.max_series: -10: must be at least 0 (0: the default limit)"},
		{"max series per family", "aggregation:\n  max_series_per_family: -1\n", "line 2: aggregation.max_series_per_family: -1"},
		{"ttl", "aggregation:\n  ttl: -1s\n", "line 2: aggregation.ttl: -1s: must not be negative"},
		{"remote write interval zero", "remote_write_interval: 0s\n", "line 1: remote_write_interval: 0s: must be positive"},
		{"remote write interval negative", "remote_write_interval: -15s\n", "line 1: remote_write_interval: -15s: must be positive"},
		{"push interval", "pushgateway:\n  - {url: http://127.0.0.1:9091, job: j, interval: -1s}\n", "line 2: pushgateway[0].interval: -1s: must not be negative"},
		{"push timeout", "pushgateway:\n  - url: http://127.0.0.1:9091\n    job: j\n    timeout: -5s\n", "line 4: pushgateway[0].timeout: -5s: must not be negative"},
		{"not a number", "runner:\n  concurrency: many\n", "cannot unmarshal"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error = %v, want it to contain %q", tt.doc, err, tt.want)
			}
		})
	}
}

func TestParseReportsEveryBadValueInFileOrder(t *testing.T) {
	doc := "remote_write_interval: 0s\nrunner:\n  idle_timeout: -5m\n  concurrency: -1\nfunctions:\n  - handler: ./b\n    memory: -5\naggregation: {max_series: -10}\n"
	_, err := Parse([]byte(doc))
	if err == nil {
		t.Fatal("no error")
	}
	var lines []string
	for _, l := range strings.Split(err.Error(), "\n") {
		lines = append(lines, strings.SplitN(l, ":", 3)[0]+":"+strings.SplitN(l, ":", 3)[1])
	}
	want := []string{"line 1: remote_write_interval", "line 3: runner.idle_timeout", "line 4: runner.concurrency",
		"line 7: functions[0].memory", "line 8: aggregation.max_series"}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("errors (-want +got):\n%s\n%v", diff, err)
	}
}

func TestParseAcceptsGoodValues(t *testing.T) {
	doc := "functions:\n  - {handler: ./b, memory: 128, timeout: 900}\nrunner: {concurrency: 1, reserved_concurrency: 0, idle_timeout: 1s}\n" +
		"aggregation: {max_series: 0, max_series_per_family: 5, ttl: 0s}\nremote_write_interval: 1s\n"
	f, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if f.RemoteWriteInterval != time.Second || f.Functions[0].MemoryMB != 128 {
		t.Errorf("got %+v", f)
	}
	if _, err := Parse(nil); err != nil {
		t.Errorf("empty file: %v", err)
	}
}

func TestChecks(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		ok   bool
	}{
		{"memory 128", CheckMemoryMB(128), true},
		{"memory 10240", CheckMemoryMB(10240), true},
		{"memory 127", CheckMemoryMB(127), false},
		{"concurrency 1", CheckConcurrency(1), true},
		{"concurrency 0", CheckConcurrency(0), false},
		{"reserved 0", CheckReservedConcurrency(0), true},
		{"idle 1ns", CheckIdleTimeout(1), true},
		{"idle 0", CheckIdleTimeout(0), false},
		{"max series 0", CheckMaxSeries(0), true},
		{"max series -1", CheckMaxSeries(-1), false},
		{"ttl 0", CheckTTL(0), true},
		{"interval 0", CheckRemoteWriteInterval(0), false},
		{"push interval 0", CheckPushInterval(0), true},
		{"push interval -1", CheckPushInterval(-1), false},
		{"request timeout 0", CheckRequestTimeout(0), true},
		{"request timeout -1", CheckRequestTimeout(-1), false},
		{"timeout 3s", CheckTimeout("3s"), true},
		{"timeout 0", CheckTimeout("0"), false},
	} {
		if (tt.err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok %v", tt.name, tt.err, tt.ok)
		}
	}
}
