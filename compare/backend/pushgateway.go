package backend

import (
	"context"
	"strconv"
)

// StartPushgateway starts a Pushgateway (Debian prometheus-pushgateway)
// keeping pushed metrics in memory. Stop it with Stop.
func StartPushgateway(ctx context.Context, opts ...Option) (*Process, error) {
	return start(ctx, spec{name: "pushgateway", pkg: "prometheus-pushgateway", ready: "/-/ready",
		bins: []string{"prometheus-pushgateway", "pushgateway", "/usr/bin/prometheus-pushgateway"},
		args: func(_ string, port int) []string {
			return []string{"--web.listen-address=127.0.0.1:" + strconv.Itoa(port), "--persistence.file=", "--log.level=info"}
		}}, newOptions(opts))
}
