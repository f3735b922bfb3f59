package listen

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDogStatsDEnv(t *testing.T) {
	tests := []struct {
		addr string
		want map[string]string
	}{
		{"127.0.0.1:8125", map[string]string{"DD_DOGSTATSD_URL": "udp://127.0.0.1:8125", "DD_AGENT_HOST": "127.0.0.1", "DD_DOGSTATSD_PORT": "8125"}},
		{"[::1]:9125", map[string]string{"DD_DOGSTATSD_URL": "udp://[::1]:9125", "DD_AGENT_HOST": "::1", "DD_DOGSTATSD_PORT": "9125"}},
	}
	for _, tt := range tests {
		got := DogStatsDEnv(netip.MustParseAddrPort(tt.addr))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("DogStatsDEnv(%s) (-want +got):\n%s", tt.addr, diff)
		}
	}
}
