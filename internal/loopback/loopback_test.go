package loopback

import (
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		addr    string
		wantErr bool
		notLoop bool
	}{
		{addr: "127.0.0.1:9464"},
		{addr: "127.0.0.2:0"},
		{addr: "[::1]:8125"},
		{addr: "localhost:9001"},
		{addr: "[::ffff:127.0.0.1]:1"},
		{addr: "0.0.0.0:9464", wantErr: true, notLoop: true},
		{addr: ":9464", wantErr: true, notLoop: true},
		{addr: "192.168.1.10:9464", wantErr: true, notLoop: true},
		{addr: "example.com:80", wantErr: true, notLoop: true},
		{addr: "127.0.0.1", wantErr: true},
	}
	for _, tt := range tests {
		err := Check(tt.addr)
		if (err != nil) != tt.wantErr {
			t.Errorf("Check(%q) = %v, want error %v", tt.addr, err, tt.wantErr)
		}
		if got := errors.Is(err, ErrNotLoopback); got != tt.notLoop {
			t.Errorf("Check(%q) = %v: errors.Is(ErrNotLoopback) = %v, want %v", tt.addr, err, got, tt.notLoop)
		}
	}
}
