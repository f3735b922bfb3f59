package session

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/lambdabridge/lambdabridge/listen"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/runner"
)

// perEnv gives every execution environment its own DogStatsD listener, so
// the datagrams say which function and environment sent them (a shared
// port cannot tell).
type perEnv struct {
	mu   sync.Mutex
	ctx  context.Context // the session's, once started
	ls   map[string]*listen.DogStatsD
	wg   sync.WaitGroup
	errs []error
}

// EnvironmentVars is for runner.WithEnvironmentVars: with
// Agents.PerEnvironment it binds a DogStatsD listener for the environment
// about to start and returns the variables that point its clients there
// (listen.DogStatsDClientEnv), else nil (Apply gave every function the shared
// listener's). The listener closes when the environment ends (Lifecycle) or
// at Shutdown.
func (s *Session) EnvironmentVars(function, environment string) []string {
	if !s.o.agents.PerEnvironment {
		return nil
	}
	pe := &s.perEnv
	o := metric.Origin{Function: function, Environment: environment}
	l, err := listen.NewDogStatsD("127.0.0.1:0", s.p.DatagramOrigin(o), listen.WithLogger(s.o.log))
	pe.mu.Lock()
	defer pe.mu.Unlock()
	if err != nil {
		pe.errs = append(pe.errs, fmt.Errorf("environment %s: %w", environment, err))
		return nil
	}
	if pe.ls == nil {
		pe.ls = map[string]*listen.DogStatsD{}
	}
	pe.ls[environment] = l
	if pe.ctx != nil {
		pe.wg.Go(func() { _ = l.Serve(pe.ctx) })
	}
	env := l.Env()
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// Lifecycle is for runner.WithLifecycle: when an environment ends, its own
// DogStatsD listener reads what is left (Settle) and closes, and when it was
// recycled during the run (idle, timeout, crash: not closed by the run's
// end), its per-environment series end (pipeline.EnvironmentEnded), so
// remote_write marks them stale while the other environments go on.
func (s *Session) Lifecycle(ev runner.EnvEvent) {
	if ev.Kind != runner.EnvEnded {
		return
	}
	if ev.Reason != runner.EndClosed {
		s.p.EnvironmentEnded(ev.Function, ev.Environment)
	}
	pe := &s.perEnv
	pe.mu.Lock()
	l := pe.ls[ev.Environment]
	delete(pe.ls, ev.Environment)
	pe.mu.Unlock()
	if l != nil {
		time.AfterFunc(Settle, func() { l.Close() })
	}
}

// start serves the listeners bound so far and those bound later.
func (pe *perEnv) start(ctx context.Context) {
	pe.mu.Lock()
	defer pe.mu.Unlock()
	pe.ctx = ctx
	for _, l := range pe.ls {
		pe.wg.Go(func() { _ = l.Serve(ctx) })
	}
}

// stop closes every listener left and waits for them.
func (pe *perEnv) stop() error {
	pe.mu.Lock()
	for _, l := range pe.ls {
		l.Close()
	}
	pe.ls = nil
	errs := pe.errs
	pe.mu.Unlock()
	pe.wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("session: per-environment listeners: %w", errors.Join(errs...))
	}
	return nil
}
