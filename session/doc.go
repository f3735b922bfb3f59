// Package session owns one local lambdabridge session from start to end:
// the pipeline, the /metrics listener, the DogStatsD and EMF agent
// listeners and the environment variables that point metric clients at
// them, the sinks of lambdabridge.yaml, the sources that feed it (the
// runner, log readers), the shutdown order, and the summary at the end.
// run, invoke, tail and compare build one; cmd/lambdabridge only turns flags
// into a config.File and options.
//
//	s, err := session.New(cfg, session.WithAgents(session.Agents{DogStatsD: "127.0.0.1:8125"}))
//	r, _ := runner.New(s.Apply(defs), runner.WithLogSink(s.Pipeline()), runner.WithPlatformSink(s.Pipeline()))
//	s.AddSource(r); s.Start(ctx); r.Invoke(...); sum := s.Shutdown() // sum.Failed() -> exit 1
//
// Shutdown order: sources closed (no new lines), listeners settle (the
// datagrams a function sent just before it ended are read) and stop,
// parsers Finish (checks that need the whole input), then every sink
// drains at once, each with the whole drain timeout, so a hanging
// remote_write cannot take the Pushgateway's last push or delete.
package session
