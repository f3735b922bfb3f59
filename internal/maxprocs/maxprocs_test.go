package maxprocs

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestInit runs the test binary again in each environment and reads the
// GOMAXPROCS its package initialization left.
func TestInit(t *testing.T) {
	if os.Getenv("MAXPROCS_CHILD") != "" {
		os.Stdout.WriteString(strconv.Itoa(runtime.GOMAXPROCS(0)))
		os.Exit(0)
	}
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: GOMAXPROCS is 1 anyway")
	}
	for _, c := range []struct {
		env  []string
		want string
	}{
		{[]string{"AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001"}, "1"},
		{[]string{"AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001", "GOMAXPROCS=2"}, "2"}, // the user's setting stays
		{nil, "runtime's default"},                                               // not in an execution environment: not 1 with two CPUs
	} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestInit$")
		cmd.Env = append([]string{"MAXPROCS_CHILD=1"}, c.env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", c.env, err)
		}
		got := strings.TrimSpace(string(out))
		if c.want == "runtime's default" && got != "1" {
			continue
		}
		if got != c.want {
			t.Errorf("%v: GOMAXPROCS %s, want %s", c.env, got, c.want)
		}
	}
}
