package runner

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
)

func TestLifecycleEventsAndEnvironmentVars(t *testing.T) {
	var mu sync.Mutex
	var got []EnvEvent
	r, err := New([]function.Definition{goDef(t)},
		WithIdleTimeout(300*time.Millisecond),
		WithLifecycle(func(ev EnvEvent) {
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
		}),
		WithEnvironmentVars(func(fn, env string) []string {
			return []string{"PER_ENV=" + fn + "/" + env, "AWS_REGION=nope", "BROKEN"}
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	res, err := r.Invoke(ctx, "gofn", Request{Payload: []byte(`{"action":"env"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(res.Payload, &out); err != nil {
		t.Fatalf("payload %s: %v", res.Payload, err)
	}
	if out["env:PER_ENV"] != "gofn/env-1" || out["env:AWS_REGION"] != "us-east-1" {
		t.Errorf("PER_ENV=%v AWS_REGION=%v, want gofn/env-1 and us-east-1 (reserved keys stay)", out["env:PER_ENV"], out["env:AWS_REGION"])
	}
	if _, err := r.Invoke(ctx, "gofn", Request{Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		last := EnvEvent{}
		if n > 0 {
			last = got[n-1]
		}
		mu.Unlock()
		if last.Kind == EnvEnded || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	var kinds []string
	for _, ev := range got {
		kinds = append(kinds, string(ev.Kind)+":"+ev.Reason)
		if (ev.Kind == EnvInvoked) != (ev.Result != nil) || ev.Result != nil && ev.Result.Environment != "env-1" {
			t.Errorf("event %+v: a Result exactly for %s", ev, EnvInvoked)
		}
		if ev.Environment != "env-1" || ev.Function != "gofn" {
			t.Errorf("event %+v: want gofn env-1", ev)
		}
	}
	want := []string{"started:", "thawed:", "frozen:", "invoked:", "thawed:", "frozen:", "invoked:", "ended:idle"}
	if !slices.Equal(kinds, want) {
		t.Errorf("events %v, want %v", kinds, want)
	}
}
