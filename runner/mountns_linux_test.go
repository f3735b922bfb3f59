package runner

import (
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// TestGoLockedAvoids: the spawner's thread is never the main thread, whose
// namespace /proc/self shows (CI once saw the runner's namespace become
// the function's: TestLayersOneNamespace). The first thread the runtime
// gives is the one to avoid here, which makes that case happen each time.
func TestGoLockedAvoids(t *testing.T) {
	var mu sync.Mutex
	var asked []int
	avoid := func() bool {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, unix.Gettid())
		return len(asked) == 1 || asked[len(asked)-1] == asked[0]
	}
	ran := make(chan int)
	goLocked(avoid, nil, func() { ran <- unix.Gettid() })
	tid := <-ran
	mu.Lock()
	defer mu.Unlock()
	if len(asked) < 2 || tid == asked[0] || tid != asked[len(asked)-1] {
		t.Errorf("f ran on thread %d after the threads asked %v: want the last asked, not the first (avoided)", tid, asked)
	}
}
