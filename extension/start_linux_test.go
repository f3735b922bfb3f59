package extension

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestStartTime starts this test's program again and checks the start time
// it finds for itself: not before the parent started it, and well before
// its package initialization was over (the time from the start to that end
// is what the init metric must not leave out).
func TestStartTime(t *testing.T) {
	if os.Getenv("LAMBDABRIDGE_TEST_START_TIME") == "1" {
		fmt.Println(processStart.UnixNano(), time.Now().UnixNano())
		os.Exit(0)
	}
	for range 3 {
		t0 := time.Now()
		cmd := exec.Command(os.Args[0], "-test.run=^TestStartTime$")
		cmd.Env = append(os.Environ(), "LAMBDABRIDGE_TEST_START_TIME=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		var start, running int64
		if _, err := fmt.Sscan(string(out), &start, &running); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		fromFork, toTest := time.Duration(start-t0.UnixNano()), time.Duration(running-t0.UnixNano())
		t.Logf("start %v after the parent's call, the test running %v after", fromFork, toTest)
		if fromFork < -time.Millisecond {
			t.Errorf("the start is %v before the parent started the process", -fromFork)
		}
		if fromFork > toTest/2 {
			t.Errorf("the start is %v after the parent started the process, of %v until the test ran: initialization is left out", fromFork, toTest)
		}
	}
}
