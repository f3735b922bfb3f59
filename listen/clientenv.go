package listen

import (
	"net/netip"
	"strconv"
)

// DogStatsDClientEnv returns the environment variables that point a
// function's DogStatsD client at addr: DD_DOGSTATSD_URL (udp://host:port,
// read by datadog-go v5 and the Datadog extension's clients) and
// DD_AGENT_HOST with DD_DOGSTATSD_PORT (read by older clients and by
// hot-shots, which ignore the URL).
func DogStatsDClientEnv(addr netip.AddrPort) map[string]string {
	return map[string]string{
		"DD_DOGSTATSD_URL":  "udp://" + addr.String(),
		"DD_AGENT_HOST":     addr.Addr().String(),
		"DD_DOGSTATSD_PORT": strconv.Itoa(int(addr.Port())),
	}
}
