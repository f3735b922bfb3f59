package errtext

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
)

func TestCause(t *testing.T) {
	// A port nobody listens on: bind one, note it, close it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, refused := http.Get("http://user:secret@" + addr + "/")

	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"plain", errors.New("boom"), "boom"},
		{"wrapped", fmt.Errorf("send: %w", fmt.Errorf("post: %w", context.DeadlineExceeded)), "context deadline exceeded"},
		{"joined kept whole", fmt.Errorf("x: %w", errors.Join(errors.New("a"), errors.New("b"))), "a\nb"},
		{"connection refused", refused, "connection refused"},
	}
	for _, tt := range tests {
		if got := Cause(tt.err); got != tt.want {
			t.Errorf("%s: Cause(%v) = %q, want %q", tt.name, tt.err, got, tt.want)
		}
	}
}
