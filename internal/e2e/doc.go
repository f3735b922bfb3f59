// Package e2e holds lambdabridge's end-to-end tests: log lines from a
// function go through the parsers and the aggregation to every sink (the
// /metrics endpoint scraped by a real Prometheus, remote_write to a real
// Prometheus and a real VictoriaMetrics, a real Pushgateway scraped by
// Prometheus), and PromQL shows the exact counts, sums and last values.
//
//	go test ./internal/e2e/          # needs prometheus, victoria-metrics, prometheus-pushgateway
//	go test -short ./internal/e2e/   # skips them
//	CI=1 go test ./internal/e2e/     # a missing backend is a failure
package e2e
