package runner

import (
	"sync"
	"time"
)

// EnvEventKind is what happened to an execution environment.
type EnvEventKind string

// The lifecycle of an execution environment, in order: started once; for
// every invocation thawed, frozen (only when freezing is on and no request
// waits) and invoked; then ended once.
const (
	EnvStarted EnvEventKind = "started" // its process was started
	EnvThawed  EnvEventKind = "thawed"  // an invocation starts running in it
	EnvFrozen  EnvEventKind = "frozen"  // its processes were stopped (a cgroup freezer, else SIGSTOP) after an invocation
	// EnvInvoked: an invocation ended (after REPORT) and the environment
	// is not yet back in the warm pool: work done in the callback delays
	// its next invocation, like work at the end of a handler. Result is set.
	EnvInvoked EnvEventKind = "invoked"
	EnvEnded   EnvEventKind = "ended" // it was shut down; Reason says why
)

// Reasons an environment ended (EnvEvent.Reason).
const (
	EndIdle    = "idle"    // recycled after the idle timeout
	EndClosed  = "closed"  // the runner was closed
	EndTimeout = "timeout" // an invocation timed out
	EndCrash   = "crash"   // the runtime exited during an invocation or init
	EndExited  = "exited"  // it exited on its own, or could not start
)

// EnvEvent is one step of an environment's life, given to the function set
// with WithLifecycle.
type EnvEvent struct {
	Kind        EnvEventKind
	Function    string
	Environment string  // "env-N", as in metric.Origin.Environment
	PID         int     // the process group leader (0 before start)
	Reason      string  // for EnvEnded
	Result      *Result // for EnvInvoked; do not keep it
	Time        time.Time
	// LogStream is the environment's AWS_LAMBDA_LOG_STREAM_NAME (what its
	// extensions name it by).
	LogStream string
}

// WithLifecycle calls fn for every lifecycle event of every environment.
// Calls for one environment come in order; calls for different
// environments may be concurrent. fn must not block for long: the
// environment waits for it.
func WithLifecycle(fn func(EnvEvent)) Option { return func(c *config) { c.lifecycle = fn } }

// WithEnvironmentVars calls fn before each environment's process starts;
// the variables it returns (K=V) are added to that environment only (for
// example a per-environment agent address). Lambda's reserved variables
// cannot be overridden this way.
func WithEnvironmentVars(fn func(function, environment string) []string) Option {
	return func(c *config) { c.envVars = fn }
}

// lifecycleState is the part of env that reports its lifecycle.
type lifecycleState struct {
	endOnce   sync.Once
	endReason string // set before shutdown; guarded by endMu
	endMu     sync.Mutex
}

func (e *env) event(k EnvEventKind, reason string) { e.eventResult(k, reason, nil) }

func (e *env) eventResult(k EnvEventKind, reason string, res *Result) {
	fn := e.f.r.cfg.lifecycle
	if fn == nil {
		return
	}
	fn(EnvEvent{Kind: k, Function: e.f.def.Name, Environment: e.id, PID: e.pid, Reason: reason, Result: res, Time: time.Now(), LogStream: e.logStream})
}

// setEndReason records why the environment is about to end (the first
// reason wins).
func (e *env) setEndReason(r string) {
	e.life.endMu.Lock()
	if e.life.endReason == "" {
		e.life.endReason = r
	}
	e.life.endMu.Unlock()
}

// ended reports EnvEnded once.
func (e *env) ended() {
	e.life.endOnce.Do(func() {
		e.life.endMu.Lock()
		r := e.life.endReason
		e.life.endMu.Unlock()
		if r == "" {
			r = EndExited
		}
		e.event(EnvEnded, r)
	})
}

// extraEnv returns the per-environment variables of WithEnvironmentVars,
// without reserved keys.
func (e *env) extraEnv() []string {
	fn := e.f.r.cfg.envVars
	if fn == nil {
		return nil
	}
	var out []string
	for _, kv := range fn(e.f.def.Name, e.id) {
		k, _, ok := cutEq(kv)
		if !ok || reservedKeys[k] || k == "AWS_LAMBDA_RUNTIME_API" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func cutEq(kv string) (string, string, bool) {
	for i := 0; i < len(kv); i++ {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], i > 0
		}
	}
	return kv, "", false
}
