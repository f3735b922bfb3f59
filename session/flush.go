package session

import "context"

// Flush delivers what the aggregation holds now to every remote_write and
// Pushgateway sink and waits for it, within ctx (pipeline.Flush): a Lambda
// extension calls it at the end of an invocation, before the environment is
// frozen. Call it between Start and Shutdown.
func (s *Session) Flush(ctx context.Context) error { return s.p.Flush(ctx) }
