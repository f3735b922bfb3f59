// Package compare answers "scrape, remote_write or Pushgateway?" for a
// user's own Lambda function: it runs one realistic workload of the
// function (cold starts, freezing between invocations, environments
// recycled after a short idle timeout, bursts) and delivers the metrics the
// function emits through every strategy at once — each environment's own
// /metrics scraped by a real Prometheus (scrape), lambdabridge's sum across
// environments scraped (aggregate), remote_write at the end of every
// invocation (remote-write), and Pushgateway pushes with a shared grouping
// key (pushgateway) or one per environment (pushgateway-instance). It then
// reads back through PromQL what Prometheus shows, and compares it with what
// the function emitted.
//
//	rep, err := compare.Run(ctx, compare.Config{Defs: defs, Function: "orders", Duration: 30 * time.Second})
//	if err != nil { return err }
//	rep.WriteTable(os.Stdout) // or rep.WriteJSON, rep.WriteHTML
package compare
