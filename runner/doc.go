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
//
// # Guarantees and limits
//
//   - Output: every line an environment writes reaches the LogSink, however
//     slow the sink. Only bytes that a process outside an ended environment
//     keeps pushing into its pipe are dropped, and they are counted
//     (Stats.LogBytesDropped, a warning, a line in WriteSummary).
//   - Memory: Max Memory Used is the kernel's peak for the environment (its
//     cgroup's memory.peak, VmHWM, or the reaped process's maximum RSS), at
//     least the runner's samples; Result.MemoryApproximate says when only
//     samples were there. A process that could not start reports 0.
//   - Shutdown: Shutdown (or ShutdownOn, with a second signal) ends within
//     its deadline; invocations still running are cut as Lambda cuts them
//     (ErrorTypeShutdown, END and REPORT, Stats.Cut), queued requests are
//     refused (Stats.Refused).
//   - Processes: a function's whole process tree dies with its environment
//     and with the runner, even when the runner is killed with SIGKILL: in
//     a cgroup v2 per environment where the hierarchy is writable (see
//     WithCgroups); elsewhere through its process group, the descendants
//     of its process and the processes that inherited its
//     AWS_LAMBDA_LOG_STREAM_NAME (a process that both cleared its
//     environment and left the tree survives), and a watchdog that ends
//     them when the runner is killed.
//   - Extensions: the executables in the extensions/ folder of a function's
//     layers are external extensions, served the Extensions API (register,
//     next with INVOKE and SHUTDOWN, init/exit errors, the 2000 ms
//     shutdown phase) and the Telemetry API (schema 2022-12-13, HTTP) on
//     AWS_LAMBDA_RUNTIME_API; an invocation lasts until the runtime and
//     every extension called next (extensions.go, telemetry.go).
//   - Layers are seen at /opt and the code at /var/task through a private
//     mount namespace where one can be made (mountns_linux.go).
//   - LoggingConfig, suppressed inits, async retries, CPU in proportion to
//     memory, InvokeWithResponseStream: logformat.go, initphase.go,
//     async.go, cpu_linux.go, stream.go.
//   - The invoke API listens on loopback only and refuses requests a web
//     page could send through a browser (internal/httpguard).
//   - Console escapes control characters and invalid UTF-8.
package runner
