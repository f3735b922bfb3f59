package pushgw

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A summary shows the last failure in a few words.
func TestLastError(t *testing.T) {
	gw := &gateway{}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	reg := registry(t, 1)
	ctx := context.Background()

	s, err := New(Config{URL: srv.URL, Job: "j"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.LastError(); got != "" {
		t.Errorf("LastError before any push = %q", got)
	}
	gw.set(http.StatusBadRequest, "pushed metrics are invalid\n")
	_ = s.Push(ctx, reg)
	gw.set(0, "")
	if err := s.Push(ctx, reg); err != nil {
		t.Fatal(err)
	}
	if got, want := s.LastError(), "HTTP 400: pushed metrics are invalid"; got != want {
		t.Errorf("LastError after a 400 then a success = %q, want %q", got, want)
	}

	down, err := New(Config{URL: closedURL, Job: "j", DeleteOnEnd: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = down.Finish(ctx, reg)
	if got, want := down.LastError(), "connection refused"; got != want {
		t.Errorf("LastError after a delete to a closed port = %q, want %q", got, want)
	}
}
