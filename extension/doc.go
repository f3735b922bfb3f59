// Package extension is lambdabridge as an AWS Lambda external extension:
// it registers with the Extensions API, subscribes to the
// Telemetry API (platform and function events), serves DogStatsD and the
// CloudWatch agent's EMF endpoint on loopback, and hands the function's log
// records, the datagrams and the platform events (platform.initReport,
// platform.report) to a lambdabridge session: the same parsers,
// aggregation and remote_write/Pushgateway sinks `lambdabridge run`
// validates locally. Each execution environment writes its own series (the
// lambda_environment label, the environment's log stream id).
//
//	cfg, err := extension.Load(os.Getenv)           // LAMBDABRIDGE_* and the layer's file
//	x := extension.New(cfg, err, extension.WithLogger(log))
//	err = x.Run(ctx)                                // until SHUTDOWN
//
// Flush strategies (LAMBDABRIDGE_FLUSH): "invocation" registers for INVOKE
// and SHUTDOWN; on every INVOKE it waits for the runtime's
// platform.runtimeDone and delivers what the aggregation holds before
// calling next, so a frozen environment holds nothing of the function's own
// metrics (the platform.report of an invocation arrives after its end and
// goes with the next flush or SHUTDOWN). "periodic" registers for SHUTDOWN
// alone: Lambda never waits for it during an invocation; it delivers every
// LAMBDABRIDGE_FLUSH_INTERVAL while the environment is thawed, and at
// SHUTDOWN. The time each invocation lasts after the runtime's answer, as
// the platform measures it, is a metric of its own
// (lambdabridge_extension_overhead_seconds).
//
// Where the Telemetry API is missing (the Runtime Interface Emulator answers
// the subscription 202 Telemetry.NotSupported), the extension says in the
// function's log that the metrics of its log lines and the platform metrics
// are not collected, serves DogStatsD and the EMF agent endpoint as usual,
// and never waits for a runtimeDone: the invocation strategy then delivers,
// on each INVOKE, what came before it.
//
// A bad configuration never breaks the function: the extension says what is
// wrong in the function's log, stays registered (for SHUTDOWN alone) and
// lets every invocation run.
package extension
