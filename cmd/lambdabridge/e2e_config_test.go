package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestE2ERemoteWriteInterval checks that remote_write_interval in the
// configuration file (and --remote-write-interval, which overrides it) sets
// how often the remote_write sinks gather and send while lambdabridge
// serves: with the default of 15 s a receiver would see nothing for 15 s.
func TestE2ERemoteWriteInterval(t *testing.T) {
	var writes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Encoding") == "snappy" {
			writes.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "lambdabridge.yaml")
	// A batch deadline shorter than the interval: every gather is sent at
	// once (the default deadline, 5 s, batches several gathers).
	yaml := "remote_write:\n  - url: " + srv.URL + "/api/v1/write\n    queue_config: {batch_send_deadline: 20ms}\n" +
		"remote_write_interval: 200ms\nscrape: {listen: none}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errs, code := runMain(t, context.Background(), "", "check-config", cfg); code != 0 {
		t.Fatalf("check-config: %d %s %s", code, out, errs)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("remote_write_interval: -1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := runMain(t, context.Background(), "", "check-config", bad); code != 2 || !strings.Contains(errs, "remote_write_interval") {
		t.Errorf("negative remote_write_interval: code %d: %s", code, errs)
	}
	if _, errs, code := runMain(t, context.Background(), "", "tail", "--remote-write-interval", "0s", "--listen", "none", "-"); code != 2 || !strings.Contains(errs, "--remote-write-interval") {
		t.Errorf("--remote-write-interval 0s: code %d: %s", code, errs)
	}

	for _, args := range [][]string{
		{"tail", "--config", cfg, "--serve", "-"},
		// The flag overrides the file.
		{"tail", "--config", cfg, "--remote-write-interval", "100ms", "--serve", "-"},
	} {
		writes.Store(0)
		var out, errb syncBuffer
		ctx, cancel := context.WithCancel(context.Background())
		m := &Main{Stdin: strings.NewReader("MONITORING|1795392000|1|count|e2e.lines|#k:v\n"), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
		done := make(chan int, 1)
		go func() { done <- m.Exit(m.Run(ctx, args)) }()
		start := time.Now()
		for writes.Load() < 3 && time.Since(start) < 10*time.Second {
			time.Sleep(20 * time.Millisecond)
		}
		took := time.Since(start)
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("%v: exit %d:\n%s", args, code, errb.String())
		}
		if n := writes.Load(); n < 3 {
			t.Errorf("%v: %d remote_write requests in %v while serving, want 3 or more", args, n, took)
		}
		t.Logf("%v: 3 writes within %v", args[1:], took.Round(time.Millisecond))
	}
}
