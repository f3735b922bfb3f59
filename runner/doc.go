// Package runner runs AWS Lambda functions locally the way Lambda does: it
// serves the Runtime API (2018-06-01) to each execution environment, starts,
// freezes, reuses, times out and recycles environments (process groups),
// measures Duration, Init Duration and Max Memory Used, writes Lambda's
// START/END/REPORT lines and produces the platform metrics
// (lambda_invocations_total, lambda_duration_seconds, ...). It also serves
// Lambda's invoke API so curl and `aws lambda invoke --endpoint-url` work.
//
// The runner is a source: it hands every log line (tied to its request id)
// to a LogSink and every platform metric to a PlatformSink; it knows nothing
// of parsers or Prometheus.
//
//	r, err := runner.New([]function.Definition{def}, runner.WithLogSink(sink), runner.WithPlatformSink(sink))
//	defer r.Close()
//	res, err := r.Invoke(ctx, def.Name, runner.Request{Payload: []byte(`{}`)})
package runner
