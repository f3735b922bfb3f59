package logline

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestFollowAppendTruncateAndStop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fn.log")
	if err := os.WriteFile(path, []byte("one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Follow(ctx, path, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var mu sync.Mutex
	var got []string
	done := make(chan error)
	go func() {
		done <- Scan(r, 0, func(l Line) error {
			mu.Lock()
			got = append(got, string(l.Bytes))
			mu.Unlock()
			return nil
		})
	}()
	wait := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			k := len(got)
			mu.Unlock()
			if k >= n {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %d lines, have %v", n, got)
	}
	wait(1)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("two\n")
	f.Close()
	wait(2)
	os.WriteFile(path, []byte("new\n"), 0o644) // truncated and rewritten
	wait(3)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got[0] != "one" || got[1] != "two" || got[2] != "new" {
		t.Errorf("lines = %q", got)
	}
}
