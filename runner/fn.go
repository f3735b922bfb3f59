package runner

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/metric"
)

// fn is the runner's state for one function: its environments, the queue
// of requests waiting for one, and its statistics.
type fn struct {
	r       *Runner
	def     function.Definition
	arn     string
	labels  []metric.Label
	baseEnv []string
	// extPaths are the external extensions (extensions/ in its layers).
	extPaths []string
	// nsSh is sh for the mount namespace of a function with layers ("":
	// none); layerWarning says why there is none. ns starts its processes
	// in the namespace made once for its layers (nil: each process mounts
	// for itself).
	nsSh, layerWarning string
	ns                 *spawner
	// resets are the environments reset by a crash or a timeout whose
	// replacement has not started yet (guarded by mu).
	resets  []*env
	sem     chan struct{} // one slot per allowed concurrent environment
	waiting atomic.Int32  // requests waiting for a slot
	batch   metric.Batch  // platform points; guarded by r.sinkMu

	mu       sync.Mutex
	idle     []*env // warm environments, most recently used last
	envs     map[*env]struct{}
	admitted int // running or queued, for reserved concurrency
	running  int
	seq      int
	st       stats
	async    AsyncStats
}

func newFn(r *Runner, d function.Definition) *fn {
	f := &fn{
		r:      r,
		def:    d,
		arn:    "arn:aws:lambda:" + r.cfg.region + ":" + AccountID + ":function:" + d.Name,
		labels: []metric.Label{{Name: "function_name", Value: d.Name}},
		sem:    make(chan struct{}, envLimit(r.cfg)),
		envs:   map[*env]struct{}{},
	}
	f.setupLayers()
	f.baseEnv = f.environ()
	f.extPaths = layerExtensions(d.Layers)
	return f
}

// envLimit is how many environments of a function may run at once.
func envLimit(c config) int {
	if c.reserved > 0 {
		return min(c.concurrency, c.reserved)
	}
	return c.concurrency
}

// Keys Lambda reserves; a function's own Env cannot override them.
var reservedKeys = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_REGION": true, "AWS_DEFAULT_REGION": true,
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true,
	"AWS_LAMBDA_LOG_GROUP_NAME": true, "AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_LAMBDA_RUNTIME_API": true,
	"LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true, "TZ": true,
}

// Host variables a function gets (a Lambda environment is clean
// otherwise): GOCOVERDIR, so that coverage-instrumented Go functions work.
var hostKeys = []string{"GOCOVERDIR"}

// environ builds the environment shared by all of the function's
// environments: the reserved Lambda variables, the function's own, a few host
// variables and credentials (the user's, or dummies so SDKs start).
func (f *fn) environ() []string {
	host := map[string]string{}
	for _, kv := range f.r.cfg.environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			host[k] = v
		}
	}
	vars := map[string]string{}
	for _, k := range append(slices.Clone(hostKeys), f.r.cfg.hostEnv...) {
		if v, ok := host[k]; ok {
			vars[k] = v
		}
	}
	if host["AWS_ACCESS_KEY_ID"] != "" {
		for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
			if v, ok := host[k]; ok {
				vars[k] = v
			}
		}
	} else {
		vars["AWS_ACCESS_KEY_ID"] = "AKIDLAMBDABRIDGELOCAL"
		vars["AWS_SECRET_ACCESS_KEY"] = "lambdabridge-local-dummy-secret-access-key"
		vars["AWS_SESSION_TOKEN"] = "lambdabridge-local-dummy-session-token"
	}
	f.lambdaEnv(vars, host)
	for k, v := range f.def.Env {
		if !reservedKeys[k] {
			vars[k] = v
		}
	}
	d := f.def
	vars["_HANDLER"] = d.Handler
	vars["AWS_REGION"] = f.r.cfg.region
	vars["AWS_DEFAULT_REGION"] = f.r.cfg.region
	if d.Runtime != "" && !strings.HasPrefix(d.Runtime, "provided") {
		vars["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + d.Runtime // not on OS-only runtimes, as on Lambda
	}
	vars["AWS_LAMBDA_FUNCTION_NAME"] = d.Name
	vars["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = strconv.Itoa(d.MemoryMB)
	vars["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
	vars["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand"
	vars["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + d.Name
	f.loggingEnv(vars)
	vars["LAMBDA_TASK_ROOT"] = d.CodeDir
	switch {
	case f.nsSh != "":
		vars["LAMBDA_TASK_ROOT"] = taskRoot
	case len(d.Layers) > 0:
		vars["LAMBDABRIDGE_OPT"] = strings.Join(d.Layers, ":")
	}
	vars["LAMBDA_RUNTIME_DIR"] = d.CodeDir
	vars["TZ"] = ":UTC"
	out := make([]string, 0, len(vars)+3)
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		out = append(out, k+"="+vars[k])
	}
	return out
}

func (f *fn) invoke(ctx context.Context, req Request) (*Result, error) {
	if !f.r.enter() {
		return nil, f.refuse()
	}
	defer f.r.calls.Done()
	f.mu.Lock()
	if rc := f.r.cfg.reserved; rc > 0 && f.admitted >= rc {
		f.st.throttles++
		f.mu.Unlock()
		f.emitThrottle()
		return nil, ErrThrottled
	}
	f.admitted++
	f.mu.Unlock()
	// A request counts against the reserved concurrency until the runtime
	// has answered it: a caller that invokes again as soon as it has its
	// answer waits for the environment to finish; it is not throttled.
	unadmit := sync.OnceFunc(func() {
		f.mu.Lock()
		f.admitted--
		f.mu.Unlock()
	})
	defer unadmit()
	f.waiting.Add(1)
	select {
	case f.sem <- struct{}{}:
		f.waiting.Add(-1)
	case <-ctx.Done():
		f.waiting.Add(-1)
		return nil, ctx.Err()
	case <-f.r.stopping:
		f.waiting.Add(-1)
		return nil, f.refuse()
	}
	defer func() { <-f.sem }()
	if f.r.isStopping() {
		return nil, f.refuse()
	}

	f.mu.Lock()
	f.running++
	f.mu.Unlock()
	f.emitConcurrent()

	inv := newInvocation(req)
	inv.answered = unadmit
	res := f.run(inv)
	res.BilledDuration = billedDuration(res.Duration, res.InitDuration)

	f.mu.Lock()
	f.running--
	f.st.record(res, cost(res.BilledDuration, res.MemorySizeMB, f.def.Architecture))
	f.mu.Unlock()
	f.emitResult(res)
	f.emitConcurrent()
	return res, nil
}

// run runs inv on a warm environment, or a new one.
func (f *fn) run(inv *invocation) *Result {
	if f.def.Exec {
		return f.runExec(inv)
	}
	var e *env
	var gone []*env
	f.mu.Lock()
	for n := len(f.idle); n > 0 && e == nil; n = len(f.idle) {
		e = f.idle[n-1]
		f.idle[n-1] = nil
		f.idle = f.idle[:n-1]
		if !e.alive() { // exited while idle (possible without freezing)
			delete(f.envs, e)
			gone = append(gone, e)
			e = nil
		}
	}
	f.mu.Unlock()
	for _, g := range gone {
		g.shutdown()
	}
	var res *Result
	switch {
	case f.r.cutting.Load():
		if e == nil {
			e = f.newEnv()
		}
		res = e.cutBeforeStart(inv)
	case e != nil:
		res = e.invoke(inv, false)
	case f.hasReset(): // after a crash or timeout: a suppressed init
		e = f.resetEnv()
		res = e.invokeWithInit(inv, nil)
	default:
		e = f.newEnv()
		if err := e.boot(); err != nil {
			res = e.startFailed(inv, err)
		} else if res = e.invoke(inv, true); res.initRetry {
			// The init phase failed: Lambda runs it again in the invoke
			// phase, within the function's timeout.
			f.release(e)
			e = f.newEnvAs(e)
			res = e.invokeWithInit(inv, res)
		}
	}
	e.eventResult(EnvInvoked, "", res)
	f.release(e)
	return res
}

func (f *fn) newEnv() *env {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	e := newEnv(f, "env-"+strconv.Itoa(f.seq))
	f.envs[e] = struct{}{}
	return e
}

// release puts a live environment back to the warm pool, or forgets a dead
// one.
func (f *fn) release(e *env) {
	f.mu.Lock()
	if e.alive() && !f.r.isClosed() {
		e.lastUsed = time.Now()
		f.idle = append(f.idle, e)
		f.mu.Unlock()
		return
	}
	delete(f.envs, e)
	f.mu.Unlock()
	e.shutdown()
}

// recycleIdle ends the environments idle for longer than the idle timeout.
func (f *fn) recycleIdle(now time.Time) {
	if f.r.cfg.idleTimeout <= 0 {
		return
	}
	var old []*env
	f.mu.Lock()
	keep := f.idle[:0]
	for _, e := range f.idle {
		if now.Sub(e.lastUsed) >= f.r.cfg.idleTimeout {
			e.setEndReason(EndIdle)
			old = append(old, e)
			delete(f.envs, e)
		} else {
			keep = append(keep, e)
		}
	}
	clear(f.idle[len(keep):])
	f.idle = keep
	f.mu.Unlock()
	for _, e := range old {
		f.r.cfg.logger.Debug("recycling idle environment", "function", f.def.Name, "environment", e.id)
		e.shutdown()
	}
}

// closeAll ends every environment of the function.
func (f *fn) closeAll() {
	f.mu.Lock()
	all := slices.Collect(maps.Keys(f.envs))
	f.idle = nil
	f.mu.Unlock()
	for _, e := range all {
		e.setEndReason(EndClosed)
		e.kill()
	}
	for _, e := range all {
		e.shutdown()
	}
	f.mu.Lock()
	for _, e := range all {
		delete(f.envs, e)
	}
	f.mu.Unlock()
}

// invoke runs inv in e, from the wait for init (cold) to REPORT.
func (e *env) invoke(inv *invocation, cold bool) *Result {
	f := e.f
	res := &Result{RequestID: inv.id, Function: f.def.Name, Environment: e.id, ColdStart: cold, MemorySizeMB: f.def.MemoryMB}
	e.setRequest(inv)
	e.busy.Store(true)
	defer e.busy.Store(false)
	if cold && !e.waitInit(inv, res) {
		return res
	}
	if cold {
		e.drain() // the init phase's output comes before START
	}
	e.platform(inv.id, "START RequestId: "+inv.id+" Version: $LATEST")
	return e.execute(inv, res, time.Now())
}

// execute runs the invoke phase of inv that began at start (after START,
// and a suppressed init if there was one), until REPORT.
func (e *env) execute(inv *invocation, res *Result, start time.Time) *Result {
	f := e.f
	e.thaw()
	e.readHWM(false) // a baseline, should the process die before it answers
	e.event(EnvThawed, "")
	inv.start = start
	inv.deadline = start.Add(f.def.Timeout)
	res.Start = start
	// expired is closed at the deadline, so every wait on it sees it: a
	// timer's channel delivers once, and a response at the deadline would
	// take it, leaving the wait for the extensions' next calls unbounded.
	expired := make(chan time.Time)
	timer := time.AfterFunc(f.r.limit(time.Until(inv.deadline)), func() { close(expired) })
	defer timer.Stop()
	e.teleEvent(teleTypePlatform, "platform.start", map[string]any{"requestId": inv.id, "version": "$LATEST", "tracing": map[string]string{"type": "X-Amzn-Trace-Id", "value": inv.trace}})
	var exts []*extension
	if e.exts != nil {
		exts = e.exts.dispatch(eventInvoke, e.invokeEvent(inv))
	}
	select {
	case e.work <- inv:
	case <-e.rtDone:
		return e.crashed(inv, res)
	case <-expired:
		return e.timedOut(inv, res)
	}
	select {
	case <-inv.responded:
	case <-e.rtDone:
		if !closed(inv.responded) {
			return e.crashed(inv, res)
		}
	case <-expired:
		if !closed(inv.responded) {
			return e.timedOut(inv, res)
		}
	}
	res.Duration = inv.respAt.Sub(inv.start)
	res.RuntimeDuration = res.Duration
	res.Payload, res.streamed = inv.payload, inv.streamed
	if inv.isErr {
		res.FunctionError = "Unhandled"
		res.ErrorType = inv.errType
	}
	e.teleRuntimeDone(inv, res)
	inv.answered()
	if inv.req.early != nil {
		early := *res
		inv.req.early(&early)
	}
	// The invocation is over when the runtime and every extension ask for
	// the next event (Duration runs until then); then the environment is
	// frozen, unless a request is already waiting for it (it would be
	// thawed at once).
	if e.invokePhaseEnd(inv, res, exts, expired) && f.waiting.Load() == 0 {
		e.freeze()
	}
	e.drain()
	res.MaxMemoryUsed, res.MemoryApproximate = e.maxUsed()
	e.end(res)
	e.stopLate(res)
	return res
}

// waitInit waits for the first call to /next. On failure it reports the
// invocation as Lambda does and returns false.
func (e *env) waitInit(inv *invocation, res *Result) bool {
	typ, msg, payload := e.initOutcome(inv, res, e.started.Add(e.f.r.limit(e.f.r.cfg.initTimeout)), e.f.r.cfg.initTimeout)
	if typ == "" {
		e.initDur = time.Since(e.started)
		e.endInitCPU()
		res.InitDuration = e.initDur
		e.teleInitDone(e.initDur, "")
		return true
	}
	res.InitDuration = time.Since(e.started)
	e.teleInitDone(res.InitDuration, typ)
	res.Start = time.Now()
	e.setEndReason(EndCrash)
	e.shutdown()
	e.platform(inv.id, initReportLine(res.InitDuration, "init", typ))
	if !res.Cut && !e.f.r.isStopping() {
		res.initRetry = true
		return false
	}
	e.platform(inv.id, "START RequestId: "+inv.id+" Version: $LATEST")
	if msg != "" {
		e.platform(inv.id, msg)
		e.platform(inv.id, typ)
		payload = errorPayload(msg, typ)
	}
	res.Payload = payload
	res.FunctionError = "Unhandled"
	res.ErrorType = typ
	res.MaxMemoryUsed, res.MemoryApproximate = e.peakAfterExit()
	e.end(res)
	return false
}

// startFailed reports an environment whose process could not start.
func (e *env) startFailed(inv *invocation, err error) *Result {
	f := e.f
	e.setRequest(inv)
	res := &Result{RequestID: inv.id, Function: f.def.Name, Environment: e.id, ColdStart: true, MemorySizeMB: f.def.MemoryMB, Start: time.Now()}
	typ := "Runtime.InvalidEntrypoint"
	if errors.As(err, new(*extLaunchError)) {
		typ = "Extension.LaunchError"
	}
	msg := "RequestId: " + inv.id + " Error: " + err.Error()
	e.kill()
	e.platform(inv.id, "START RequestId: "+inv.id+" Version: $LATEST")
	e.platform(inv.id, msg)
	e.platform(inv.id, typ)
	res.Payload = errorPayload(msg, typ)
	res.FunctionError = "Unhandled"
	res.ErrorType = typ
	e.end(res)
	return res
}

// crashed reports an environment that exited during the invocation.
func (e *env) crashed(inv *invocation, res *Result) *Result {
	if res.Duration == 0 {
		res.Duration = time.Since(inv.start) // before the extensions' shutdown phase
	}
	e.reset()
	e.setEndReason(EndCrash)
	e.teleRuntimeEnded(inv, "failure", "Runtime.ExitError")
	// With extensions that take SHUTDOWN, the crash is reported first (its
	// REPORT and platform.report reach them), then their shutdown phase
	// runs, as on Lambda.
	early := e.shutdownExts() && !e.cut.Load()
	if early {
		e.drain()
	} else {
		e.shutdown()
	}
	typ := "Runtime.ExitError"
	msg := "RequestId: " + inv.id + " Error: " + exitReason(e.waitErr)
	switch {
	case e.cut.Load():
		typ, msg, res.Cut = ErrorTypeShutdown, cutMessage(inv.id), true
	case e.oom.Load():
		typ = "Runtime.OutOfMemory"
	}
	e.platform(inv.id, msg)
	e.platform(inv.id, typ)
	res.Payload = errorPayload(msg, typ)
	res.FunctionError = "Unhandled"
	res.ErrorType = typ
	if early {
		res.MaxMemoryUsed, res.MemoryApproximate = e.peakNow()
	} else {
		res.MaxMemoryUsed, res.MemoryApproximate = e.peakAfterExit()
	}
	if e.oom.Load() {
		res.MaxMemoryUsed = max(res.MaxMemoryUsed, int64(e.f.def.MemoryMB)<<20)
	}
	e.end(res)
	if early {
		e.shutdown()
	}
	return res
}

// timedOut ends the environment of an invocation past its timeout.
func (e *env) timedOut(inv *invocation, res *Result) *Result {
	e.reset()
	e.setEndReason(EndTimeout)
	e.teleRuntimeEnded(inv, "timeout", "Sandbox.Timedout")
	early := e.shutdownExts() && e.alive() // report first, as crashed
	if !early {
		e.shutdown()
	}
	d := e.f.def.Timeout
	e.platform(inv.id, time.Now().UTC().Format("2006-01-02T15:04:05.000Z")+" "+inv.id+" "+timeoutMessage(d))
	res.Duration = d
	res.TimedOut = true
	res.Payload = errorPayload("RequestId: "+inv.id+" Error: "+timeoutMessage(d), "Sandbox.Timedout")
	res.FunctionError = "Unhandled"
	res.ErrorType = "Sandbox.Timedout"
	if early {
		res.MaxMemoryUsed, res.MemoryApproximate = e.peakNow()
		e.end(res)
		e.shutdown()
		return res
	}
	res.MaxMemoryUsed, res.MemoryApproximate = e.peakAfterExit()
	e.end(res)
	return res
}

// end writes END and REPORT.
func (e *env) end(res *Result) {
	res.BilledDuration = billedDuration(res.Duration, res.InitDuration)
	e.platform(res.RequestID, "END RequestId: "+res.RequestID)
	e.platform(res.RequestID, reportLine(res))
	e.teleReport(res)
	if t := e.tail.Load(); t != nil {
		res.LogTail = t.bytes()
	}
}

// platform writes one of the runner's own lines for the environment.
func (e *env) platform(reqID, line string) {
	if e.f.jsonLogs() && structuredLine(line) {
		return // written as its platform.* event (logformat.go)
	}
	e.writePlatform(reqID, line)
}

// writePlatform writes one platform line as it is.
func (e *env) writePlatform(reqID, line string) {
	name := e.f.def.Name
	o := metric.Origin{Source: name, Line: int(e.lineNo.Add(1)), Function: name, Environment: e.id, RequestID: reqID}
	e.f.r.line(o, StreamPlatform, []byte(line))
	if t := e.tail.Load(); t != nil {
		t.add([]byte(line))
	}
}

// exitReason says why a runtime exited, as Lambda words it ("Runtime
// exited with error: exit status 1", "... signal: killed").
func exitReason(err error) string {
	if err == nil {
		return "Runtime exited without providing a reason"
	}
	return "Runtime exited with error: " + err.Error()
}

func closed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// runExec runs one invocation of a plain script: a new process with the
// event on stdin; exit code 0 is success.
func (f *fn) runExec(inv *invocation) *Result {
	e := f.newEnv()
	defer f.release(e)
	if f.r.cutting.Load() {
		return e.cutBeforeStart(inv)
	}
	e.setRequest(inv)
	defer e.busy.Store(false)
	res := &Result{RequestID: inv.id, Function: f.def.Name, Environment: e.id, ColdStart: true, MemorySizeMB: f.def.MemoryMB}
	environ := append(slices.Clip(f.baseEnv), "AWS_LAMBDA_LOG_STREAM_NAME="+e.logStream, "_X_AMZN_TRACE_ID="+inv.trace)
	e.platform(inv.id, "START RequestId: "+inv.id+" Version: $LATEST")
	inv.start = time.Now()
	res.Start = inv.start
	if err := e.start(f.def.Command, environ, f.def.CodeDir, bytes.NewReader(inv.req.Payload)); err != nil {
		typ := "Runtime.InvalidEntrypoint"
		msg := "RequestId: " + inv.id + " Error: " + err.Error()
		e.platform(inv.id, msg)
		res.Payload, res.FunctionError, res.ErrorType = errorPayload(msg, typ), "Unhandled", typ
		e.end(res)
		return res
	}
	e.busy.Store(true)
	timer := time.NewTimer(f.def.Timeout)
	defer timer.Stop()
	select {
	case <-e.exited:
	case <-timer.C:
		return e.timedOut(inv, res)
	}
	e.waitOutput(2 * time.Second)
	res.Duration = time.Since(inv.start)
	if e.waitErr != nil || e.oom.Load() || e.cut.Load() {
		return e.crashed(inv, res)
	}
	res.Payload = []byte("null")
	res.MaxMemoryUsed, res.MemoryApproximate = e.peakAfterExit()
	e.end(res)
	return res
}
