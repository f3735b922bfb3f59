// Package compare answers "scrape, remote_write or Pushgateway?" for a
// user's own Lambda function: it runs one realistic workload of the
// function (cold starts, freezing between invocations, environments
// recycled after a short idle timeout, bursts) and delivers the metrics the
// function emits through every strategy at once — each environment's own
// /metrics scraped by a real Prometheus (scrape), lambdabridge's sum across
// environments scraped (aggregate), remote_write at the end of every
// invocation (remote-write), Pushgateway pushes with a shared grouping
// key (pushgateway) or one per environment (pushgateway-instance), and the
// lambdabridge Lambda extension in every environment (extension: a layer
// built once per run from Config.Extension, remote_write with its own flush
// strategy; the time it adds is what the runner measures after the
// runtime's answer). It then
// reads back through PromQL what Prometheus shows, and compares it with what
// the function emitted.
//
//	rep, err := compare.Run(ctx, compare.Config{Defs: defs, Function: "orders", Duration: 30 * time.Second})
//	if err != nil { return err }
//	rep.WriteTable(os.Stdout) // or rep.WriteJSON, rep.WriteHTML
//
// It is made of three parts, each with one job:
//   - the experiment (this package: run.go, experiment.go, env.go,
//     observe.go) starts the backends (compare/backend), drives the
//     function through runner.Drive, delivers through every strategy, and
//     records raw observations: emissions, invocations, environments'
//     lives, each strategy's deliveries and traffic, and the series read
//     back (analysis.Observations);
//   - the analysis (compare/analysis) is pure: observations in, a report
//     out, no Prometheus, no network, no clock;
//   - the report (compare/report) holds the Report and writes it as a
//     table, JSON or HTML.
package compare
