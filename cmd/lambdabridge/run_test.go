package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRunCommandEvents(t *testing.T) {
	h := shellHandler(t)
	evs := filepath.Join(t.TempDir(), "events.jsonl")
	os.WriteFile(evs, []byte("{\"n\":1}\n{\"n\":2}\nnot json\n{\"fail\":1}\n"), 0o644)
	_, errs, code := runMain(t, context.Background(), "", "run", "--handler", h, "--name", "sh", "--events", evs,
		"--invocations", "9", "--concurrency", "2", "--logs", "none")
	if code != 1 {
		t.Errorf("code %d (3 of 9 invocations fail), stderr:\n%s", code, errs)
	}
	if !strings.Contains(errs, "events.jsonl:3: skipped") {
		t.Errorf("bad event line not reported:\n%s", errs)
	}
	if !regexp.MustCompile(`(?m)^\s+sh\s+9\s+9\s+3\s+0\s+0\s+2\s`).MatchString(errs) {
		t.Errorf("summary table:\n%s", errs)
	}
	if strings.Contains(errs, "START RequestId") {
		t.Errorf("--logs none printed logs")
	}
}

func TestRunCommandServe(t *testing.T) {
	h := shellHandler(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, testArgs([]string{"run", "--handler", h, "--name", "sh", "--api", "127.0.0.1:0"}))
	}()
	re := regexp.MustCompile(`invoke API for sh on (http://\S+)`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(errb.String()); m != nil {
			url = m[1]
			break
		}
	}
	if url == "" {
		t.Fatalf("no API address in:\n%s", errb.String())
	}
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"x":1}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"echo":{"x":1}}` {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop when its context ended")
	}
	if !strings.Contains(errb.String(), "[sh env-1] START RequestId:") {
		t.Errorf("served invocation's logs not shown:\n%s", errb.String())
	}
}

func TestRunCommandRejectsNonLoopback(t *testing.T) {
	h := shellHandler(t)
	_, errs, code := runMain(t, context.Background(), "", "run", "--handler", h, "--api", "0.0.0.0:9001")
	if code != 2 || !strings.Contains(errs, "loopback") {
		t.Errorf("code %d: %s", code, errs)
	}
}

func TestRunCommandRate(t *testing.T) {
	h := shellHandler(t)
	start := time.Now()
	_, errs, code := runMain(t, context.Background(), "{}", "run", "--handler", h, "--name", "sh", "--event", "-", "--invocations", "10", "--rate", "20", "--concurrency", "2")
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Errorf("10 invocations at 20/s took %v", el)
	}
	if code != 0 || !regexp.MustCompile(`(?m)^\s+sh\s+10\s+10\s+0\s`).MatchString(errs) {
		t.Errorf("code %d:\n%s", code, errs)
	}
}
