// Package baselinebench benchmarks lambdabridge's DogStatsD parser beside
// statsd_exporter's line parser (github.com/prometheus/statsd_exporter/pkg/line)
// on the same lines, in the same run. It is a module of its own so that
// statsd_exporter's dependency tree stays out of lambdabridge's go.mod:
//
//	cd dogstatsd/internal/baselinebench
//	go test -run '^$' -bench . -benchmem
//	go test -run '^$' -bench . -benchmem -count 5 | tee bench.txt
package baselinebench
