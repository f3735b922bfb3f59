package extension_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/runner"
)

// TestThreadsYieldToFunction runs the example with the layer and checks
// every thread of the extension is under SCHED_BATCH (3), the policy it
// chose so that its wakeups do not preempt the function.
func TestThreadsYieldToFunction(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example and the layer")
	}
	marker := "sched-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	def := exampleDef(t, map[string]string{"LAMBDABRIDGE_BENCH_ID": marker}, 10*time.Second)
	r, err := runner.New([]function.Definition{def})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	invoke(t, r, `{}`)
	pid, ok := extensionPID(marker)
	if !ok {
		t.Fatal("no extension process")
	}
	policies := threadPolicies(t, pid)
	for tid, policy := range policies {
		if policy != "3" {
			t.Errorf("thread %s: policy %s, want SCHED_BATCH (3)", tid, policy)
		}
	}
	t.Logf("%d threads under SCHED_BATCH", len(policies))
}

// threadPolicies returns the scheduling policy of each thread of process
// pid, by thread id.
func threadPolicies(t *testing.T, pid string) map[string]string {
	t.Helper()
	stats, _ := filepath.Glob(filepath.Join("/proc", pid, "task", "[0-9]*", "stat"))
	if len(stats) == 0 {
		t.Fatal("no threads")
	}
	out := map[string]string{}
	for _, s := range stats {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		// after the command's ")": the state is the 3rd field of the line,
		// the policy the 41st
		f := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
		if len(f) < 39 {
			t.Fatalf("%s: %q", s, b)
		}
		out[filepath.Base(filepath.Dir(s))] = string(f[38])
	}
	return out
}
