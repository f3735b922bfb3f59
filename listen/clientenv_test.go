package listen

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDogStatsDClientEnv(t *testing.T) {
	tests := []struct {
		addr string
		want map[string]string
	}{
		{"127.0.0.1:8125", map[string]string{
			"DD_DOGSTATSD_URL": "udp://127.0.0.1:8125", "DD_AGENT_HOST": "127.0.0.1", "DD_DOGSTATSD_PORT": "8125"}},
		{"127.0.0.1:40001", map[string]string{
			"DD_DOGSTATSD_URL": "udp://127.0.0.1:40001", "DD_AGENT_HOST": "127.0.0.1", "DD_DOGSTATSD_PORT": "40001"}},
		// IPv6: brackets in the URL, none in the host (hot-shots passes it to dgram as is).
		{"[::1]:8125", map[string]string{
			"DD_DOGSTATSD_URL": "udp://[::1]:8125", "DD_AGENT_HOST": "::1", "DD_DOGSTATSD_PORT": "8125"}},
	}
	for _, tt := range tests {
		got := DogStatsDClientEnv(netip.MustParseAddrPort(tt.addr))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("DogStatsDClientEnv(%s) (-want +got):\n%s", tt.addr, diff)
		}
	}
}
