package pipeline

// EnvironmentEnded ends the series of one execution environment of function
// that was recycled during a run (idle, timeout, crash) while others go on:
// with per-environment series (aggregate.WithPerEnvironment) they leave the
// aggregation, and remote_write sends their stale markers at its next
// gather. Do not call it for the environments a finishing run closes: a
// finite run leaves its series queryable after it. It returns how many
// series ended.
func (p *Pipeline) EnvironmentEnded(function, environment string) int {
	return p.agg.EndEnvironment(function, environment)
}
