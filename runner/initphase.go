package runner

import (
	"slices"
	"strconv"
	"time"
)

// The init phase as Lambda runs it: limited to 10 s (WithInitTimeout); when
// it fails (an error or that limit) it is run again at the start of the
// invoke phase, after START, within the function's timeout, its time part
// of Duration ("Phase: invoke" in INIT_REPORT when it fails again). After
// an invocation crashed or timed out, the next environment's init is
// likewise a suppressed init in the invoke phase: not a cold start, its
// time folded into Duration.

// boot starts a new environment: its Runtime API, external extensions and
// runtime. An error is a process that could not start.
func (e *env) boot() error {
	f := e.f
	environ := slices.Clip(f.baseEnv)
	if err := e.serveRuntimeAPI(); err != nil {
		return err
	}
	environ = append(environ, e.extraEnv()...)
	environ = append(environ, "AWS_LAMBDA_RUNTIME_API="+e.ln.Addr().String(), "AWS_LAMBDA_LOG_STREAM_NAME="+e.logStream)
	if err := e.startExtensions(environ); err != nil {
		return err
	}
	if !closed(e.initFail) { // else the wait for init reports it
		e.teleInitStart()
		if err := e.start(f.command(), environ, f.def.CodeDir, nil); err != nil && !e.extensionFailed() {
			return err
		}
	}
	e.event(EnvStarted, "")
	return nil
}

// invokeWithInit runs inv in a new environment whose init phase is part
// of the invoke phase: START, the init, then the invocation. prev is the
// result of a failed init phase this one retries (nil after a crash or
// timeout: not a cold start).
func (e *env) invokeWithInit(inv *invocation, prev *Result) *Result {
	f := e.f
	res := &Result{RequestID: inv.id, Function: f.def.Name, Environment: e.id, MemorySizeMB: f.def.MemoryMB}
	if prev != nil {
		res.ColdStart, res.InitDuration = true, prev.InitDuration
	}
	e.setRequest(inv)
	defer e.busy.Store(false)
	e.platform(inv.id, "START RequestId: "+inv.id+" Version: $LATEST")
	start := time.Now()
	if err := e.boot(); err != nil {
		e.kill()
		msg := "RequestId: " + inv.id + " Error: " + err.Error()
		return e.initFailedInInvoke(inv, res, start, "Runtime.InvalidEntrypoint", msg, nil)
	}
	e.busy.Store(true) // sampled from now on (its pid is set)
	typ, msg, payload := e.initOutcome(inv, res, start.Add(f.r.limit(f.def.Timeout)), f.def.Timeout)
	if typ != "" {
		return e.initFailedInInvoke(inv, res, start, typ, msg, payload)
	}
	e.teleInitDone(time.Since(start), "")
	e.drain()
	return e.execute(inv, res, start)
}

// initFailedInInvoke reports an init phase that failed in the invoke
// phase: the invocation fails with its error.
func (e *env) initFailedInInvoke(inv *invocation, res *Result, start time.Time, typ, msg string, payload []byte) *Result {
	d := time.Since(start)
	e.teleInitDone(d, typ)
	e.setEndReason(EndCrash)
	e.shutdown()
	e.platform(inv.id, initReportLine(d, "invoke", typ))
	if typ == "Sandbox.Timedout" {
		msg = "RequestId: " + inv.id + " Error: " + timeoutMessage(e.f.def.Timeout)
		res.TimedOut, d = true, e.f.def.Timeout
	}
	if msg != "" {
		e.platform(inv.id, msg)
		e.platform(inv.id, typ)
		payload = errorPayload(msg, typ)
	}
	res.Start, res.Duration = start, d
	res.Payload, res.FunctionError, res.ErrorType = payload, "Unhandled", typ
	res.MaxMemoryUsed, res.MemoryApproximate = e.peakAfterExit()
	e.end(res)
	return res
}

// initReportLine is INIT_REPORT for an init phase that failed.
func initReportLine(d time.Duration, phase, typ string) string {
	s := "INIT_REPORT Init Duration: " + ms2(d) + " ms\tPhase: " + phase + "\tStatus: " + statusOf(typ)
	if typ != "Sandbox.Timedout" {
		s += "\tError Type: " + typ
	}
	return s
}

// reset records that an environment was reset by a crash or a timeout:
// the next new environment's init is a suppressed one.
func (e *env) reset() {
	if e.f.def.Exec || e.cut.Load() {
		return
	}
	e.f.mu.Lock()
	e.f.resets = append(e.f.resets, e)
	e.f.mu.Unlock()
}

// hasReset reports whether an environment reset by a crash or timeout
// awaits its replacement.
func (f *fn) hasReset() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.resets) > 0
}

// resetEnv replaces the oldest reset environment: the same sandbox on
// Lambda, so the same id and log stream (a log reader sees one stream).
func (f *fn) resetEnv() *env {
	f.mu.Lock()
	var old *env
	if len(f.resets) > 0 {
		old = f.resets[0]
		f.resets[0] = nil
		f.resets = f.resets[1:]
	}
	f.mu.Unlock()
	if old == nil {
		return f.newEnv()
	}
	return f.newEnvAs(old)
}

// newEnvAs makes a new environment with old's id and log stream: its init
// runs again, in the invoke phase, in the same sandbox.
func (f *fn) newEnvAs(old *env) *env {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := newEnv(f, old.id)
	e.logStream = old.logStream
	e.suppressed = true
	e.again = old.again + 1
	f.envs[e] = struct{}{}
	return e
}

// WithDebug turns the timeouts off (the init phase's limit and the
// functions' timeouts; the runtime is still given the deadline of its
// timeout), for a debugger attached to a function, as sam does.
func WithDebug(on bool) Option { return func(c *config) { c.debug = on } }

// limit is d, or with WithDebug a limit never reached.
func (r *Runner) limit(d time.Duration) time.Duration {
	if r.cfg.debug {
		return 100 * 365 * 24 * time.Hour
	}
	return d
}

// extensionFailed reports whether an extension failed the init phase (it
// may take a moment to be known: the runtime could not join the process
// group of the extensions that just exited); the wait for init reports it.
func (e *env) extensionFailed() bool {
	if len(e.f.extPaths) == 0 {
		return false
	}
	select {
	case <-e.initFail:
		return true
	case <-time.After(200 * time.Millisecond):
		return false
	}
}

// incarnation tells apart, in cgroup names, the environments that had the
// same id ("" for the first).
func (e *env) incarnation() string {
	if e.again == 0 {
		return ""
	}
	return "-" + strconv.Itoa(e.again)
}
