package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

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
	ls   map[envKey]*envListener
	wg   sync.WaitGroup
	errs []error
	// kernelDropped sums what the kernel dropped on the closed listeners.
	kernelDropped atomic.Uint64
}

// envKey names an environment: environment ids repeat across functions.
type envKey struct{ function, environment string }

// envListener is one environment's listener; stop ends its Serve (which
// reads what the socket holds, then closes it) and waits for it.
type envListener struct {
	l    *listen.DogStatsD
	fwd  io.Closer // the relay's socket to the environment's extension, if any
	stop context.CancelFunc
	done chan struct{}
}

// EnvironmentVars is for runner.WithEnvironmentVars: with
// Agents.PerEnvironment it binds a DogStatsD listener for the environment
// about to start and returns the variables that point its clients there
// (listen.DogStatsDClientEnv), else nil (Apply gave every function the shared
// listener's). The listener closes when the environment ends (Lifecycle) or
// at Shutdown.
//
// The environments of a function whose layers hold lambdabridge's
// extension get the extension's own ports and a relay (extensionVars),
// whether or not Agents.PerEnvironment is set.
func (s *Session) EnvironmentVars(function, environment string) []string {
	if user, ok := s.ext.lookup(function); ok {
		return s.extensionVars(function, environment, user)
	}
	if !s.o.agents.PerEnvironment {
		return nil
	}
	o := metric.Origin{Function: function, Environment: environment}
	l, err := listen.NewDogStatsD("127.0.0.1:0", s.p.DatagramOrigin(o), listen.WithLogger(s.o.log))
	if err != nil {
		s.perEnv.fail(fmt.Errorf("environment %s: %w", environment, err))
		return nil
	}
	s.perEnv.add(envKey{function, environment}, &envListener{l: l})
	env := l.Env()
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// Lifecycle is for runner.WithLifecycle: when an environment ends, its own
// DogStatsD listener reads what its socket holds and closes, and then, when
// the environment was recycled during the run (idle, timeout, crash: not
// closed by the run's end), its per-environment series end
// (pipeline.EnvironmentEnded), so remote_write marks them stale while the
// other environments go on.
func (s *Session) Lifecycle(ev runner.EnvEvent) {
	if ev.Kind != runner.EnvEnded {
		return
	}
	pe := &s.perEnv
	k := envKey{ev.Function, ev.Environment}
	pe.mu.Lock()
	el := pe.ls[k]
	delete(pe.ls, k)
	pe.mu.Unlock()
	if el != nil {
		pe.close(el) // its last datagrams count before its series end
	}
	if ev.Reason != runner.EndClosed {
		s.p.EnvironmentEnded(ev.Function, ev.Environment)
	}
}

// add keeps el as k's listener, served from the session's start.
func (pe *perEnv) add(k envKey, el *envListener) {
	pe.mu.Lock()
	defer pe.mu.Unlock()
	if pe.ls == nil {
		pe.ls = map[envKey]*envListener{}
	}
	pe.ls[k] = el
	if pe.ctx != nil {
		pe.serve(el)
	}
}

// fail records an error of an environment's listener, for Shutdown.
func (pe *perEnv) fail(err error) {
	pe.mu.Lock()
	pe.errs = append(pe.errs, err)
	pe.mu.Unlock()
}

// serve runs el's listener until stop (pe.mu held, pe.ctx set).
func (pe *perEnv) serve(el *envListener) {
	ctx, stop := context.WithCancel(pe.ctx)
	el.stop, el.done = stop, make(chan struct{})
	pe.wg.Go(func() {
		defer close(el.done)
		_ = el.l.Serve(ctx)
	})
}

// close stops el's listener (draining what its socket holds when it was
// served) and counts what the kernel dropped on its socket.
func (pe *perEnv) close(el *envListener) {
	if el.stop != nil {
		el.stop()
		<-el.done
	}
	el.l.Close()
	if el.fwd != nil {
		el.fwd.Close()
	}
	pe.kernelDropped.Add(el.l.Stats().KernelDropped)
}

// dropped sums what the kernel dropped on the environments' listeners,
// closed and open.
func (pe *perEnv) dropped() uint64 {
	pe.mu.Lock()
	defer pe.mu.Unlock()
	n := pe.kernelDropped.Load()
	for _, el := range pe.ls {
		n += el.l.Stats().KernelDropped
	}
	return n
}

// start serves the listeners bound so far and those bound later.
func (pe *perEnv) start(ctx context.Context) {
	pe.mu.Lock()
	defer pe.mu.Unlock()
	pe.ctx = ctx
	for _, el := range pe.ls {
		pe.serve(el)
	}
}

// stop closes every listener left and waits for them.
func (pe *perEnv) stop() error {
	pe.mu.Lock()
	left := slices.Collect(maps.Values(pe.ls))
	pe.ls = nil
	errs := pe.errs
	pe.mu.Unlock()
	for _, el := range left {
		pe.close(el)
	}
	pe.wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("session: per-environment listeners: %w", errors.Join(errs...))
	}
	return nil
}
