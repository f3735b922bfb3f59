package runner

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Lambda's Extensions API (2020-01-01), served on AWS_LAMBDA_RUNTIME_API
// beside the Runtime API:
//
//   - the executables in the extensions/ folder of the function's layers
//     (/opt/extensions on Lambda) are started before the runtime, with the
//     function's environment, in its process group and cgroup; each must
//     register (POST /2020-01-01/extension/register with
//     Lambda-Extension-Name, its file name) before the runtime starts;
//     a process of the function may register an internal extension
//     (another name) during the init phase;
//   - the init phase ends when the runtime and every extension have called
//     next; the invoke phase starts with an INVOKE event to each extension
//     registered for it and ends when the runtime and every extension have
//     called next again: Duration runs until then;
//   - the shutdown phase (idle recycling, the runner's close, a timeout)
//     sends the runtime SIGTERM and gives it 300 ms, then sends SHUTDOWN
//     to every extension registered for it and waits for their next call
//     (or their exit) until 2000 ms after the phase began, then kills what
//     is left, as Lambda does for a function with external extensions;
//   - init/error and exit/error fail the init phase, or the invocation
//     that is running, with the error type the extension gave.

// Limits of the shutdown phase with external extensions.
const (
	shutdownLimit        = 2000 * time.Millisecond
	runtimeShutdownLimit = 300 * time.Millisecond
)

// Extension event types.
const (
	eventInvoke   = "INVOKE"
	eventShutdown = "SHUTDOWN"
)

// extension is one registered (or, for an external one, started)
// extension of an environment.
type extension struct {
	name   string
	id     string // Lambda-Extension-Identifier, set at registration
	events []string
	next   chan struct{} // it called next after its work (buffered 1)
	busy   atomic.Bool   // it has work: init, or an event it took
	// given counts the events put in event; done counts the phases it
	// finished (init, then each event it took) by calling next. It is
	// done with the last event given when done > given.
	given, done atomic.Int64
	event       chan []byte   // the event its next call returns (buffered 1)
	exited      chan struct{} // external only: closed once reaped
	out, err    *lineReader
}

func (x *extension) wants(ev string) bool { return slices.Contains(x.events, ev) }

// extensions is an environment's set of extensions.
type extensions struct {
	mu         sync.Mutex
	all        []*extension
	byID       map[string]*extension
	registered chan struct{} // closed when every external extension registered
	pending    int           // external extensions not yet registered
	initOver   bool
}

func (s *extensions) list() []*extension {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.all)
}

func (s *extensions) byHeader(r *http.Request) *extension {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[r.Header.Get("Lambda-Extension-Identifier")]
}

// layerExtensions lists the executables in the extensions/ folders of
// layers, by name (a later layer's file replaces an earlier one's, as
// layers are merged at /opt), in name order as Lambda starts them.
func layerExtensions(layers []string) []string {
	byName := map[string]string{}
	for _, l := range layers {
		ents, err := os.ReadDir(filepath.Join(l, "extensions"))
		if err != nil {
			continue
		}
		for _, de := range ents {
			p := filepath.Join(l, "extensions", de.Name())
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
				byName[de.Name()] = p
			}
		}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range byName {
			if !yield(n) {
				return
			}
		}
	})
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = byName[n]
	}
	return out
}

// startExtensions starts the function's external extensions and waits
// until each has registered, one has failed, or the init phase's time is
// up; the caller starts the runtime next (waitInit reports a failure).
func (e *env) startExtensions(environ []string) error {
	paths := e.f.extPaths
	s := e.exts
	if len(paths) == 0 {
		close(s.registered)
		return nil
	}
	e.started = time.Now()
	e.teleInitStart()
	// All are known before the first starts: one may register at once.
	s.mu.Lock()
	for _, p := range paths {
		s.all = append(s.all, &extension{name: filepath.Base(p), next: make(chan struct{}, 1), event: make(chan []byte, 1), exited: make(chan struct{})})
	}
	s.pending = len(paths)
	xs := slices.Clone(s.all)
	s.mu.Unlock()
	for i, x := range xs {
		if err := e.startExtension(x, paths[i], environ); err != nil {
			return &extLaunchError{fmt.Errorf("extension %s: %w", x.name, err)}
		}
	}
	select {
	case <-s.registered:
	case <-e.initFail:
	case <-time.After(e.f.r.limit(e.f.r.cfg.initTimeout)):
	}
	return nil
}

// startExtension starts one external extension in the environment's
// process group (the first one leads it) and cgroup.
func (e *env) startExtension(x *extension, path string, environ []string) error {
	outR, outW, errR, errW, err := outputPipes()
	if err != nil {
		return err
	}
	argv := []string{path}
	if e.f.nsSh != "" {
		argv = e.f.nsArgv([]string{"/opt/extensions/" + filepath.Base(path)})
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = e.f.dir(e.f.def.CodeDir)
	cmd.Env = environ
	cmd.Stdout, cmd.Stderr = outW, errW
	e.setupCPU()
	cmd.SysProcAttr = e.procAttr(true)
	e.envAttr(cmd.SysProcAttr)
	err = e.f.startCmd(cmd)
	e.doneStarting(err == nil)
	if err := closeAfterStart(err, outW, errW, outR, errR); err != nil {
		return err
	}
	e.pidMu.Lock()
	if e.pgid == 0 {
		e.pgid = cmd.Process.Pid
		e.f.r.tree.tell("+", e.pgid)
	}
	e.pidMu.Unlock()
	if closed(e.closing) {
		syscall.Kill(-e.pgid, syscall.SIGKILL)
	}
	e.attachCPU(cmd.Process.Pid)
	e.attachFreezer(cmd.Process.Pid)
	x.out = newLineReader(e, StreamStdout, outR)
	x.err = newLineReader(e, StreamStderr, errR)
	x.out.kind, x.err.kind = teleExtension, teleExtension
	go x.out.run()
	go x.err.run()
	go func() {
		werr := cmd.Wait()
		close(x.exited)
		if e.inInit() && !e.exts.registeredOK(x) {
			msg := "RequestId: " + e.reqIDNow() + " Error: extension " + x.name + " exited before it registered: " + exitReason(werr)
			e.failInit("Extension.Crash", errorPayload(msg, "Extension.Crash"))
		}
	}()
	return nil
}

// extLaunchError: an external extension could not be started.
type extLaunchError struct{ err error }

func (l *extLaunchError) Error() string { return l.err.Error() }
func (l *extLaunchError) Unwrap() error { return l.err }

// registeredOK reports whether x has registered.
func (s *extensions) registeredOK(x *extension) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return x.id != ""
}

// envAttr puts a process started after the first one of the
// environment into the environment's process group, and every process of a
// function with layers into a private mount namespace.
func (e *env) envAttr(attr *syscall.SysProcAttr) {
	if e.f.nsSh != "" && e.f.ns == nil {
		nsAttr(attr)
	}
	e.pidMu.Lock()
	defer e.pidMu.Unlock()
	if e.pgid > 0 {
		attr.Setpgid, attr.Pgid = true, e.pgid
	}
}

func (e *env) reqIDNow() string { return *e.reqID.Load() }

// inInit reports whether the init phase is still running.
func (e *env) inInit() bool {
	s := e.exts
	if s == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.initOver
}

// failInit fails the init phase with typ and payload (first failure wins).
func (e *env) failInit(typ string, payload []byte) bool {
	first := false
	e.initOnce.Do(func() {
		e.initPayload, e.initType = payload, typ
		close(e.initFail)
		first = true
	})
	return first
}

// handleRegister serves POST /2020-01-01/extension/register.
func (e *env) handleRegister(w http.ResponseWriter, r *http.Request) {
	name := r.Header.Get("Lambda-Extension-Name")
	var body struct {
		Events []string `json:"events"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "register: the body must be {\"events\":[...]}: "+err.Error())
		return
	}
	if name == "" {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "register: the Lambda-Extension-Name header is missing")
		return
	}
	for _, ev := range body.Events {
		if ev != eventInvoke && ev != eventShutdown {
			writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "register: unknown event "+strconv.Quote(ev)+" (want INVOKE, SHUTDOWN)")
			return
		}
	}
	x, status, typ, msg := e.exts.register(name, body.Events)
	if x == nil {
		writeAPIError(w, status, typ, msg)
		return
	}
	e.platform(e.reqIDNow(), "EXTENSION\tName: "+x.name+"\tState: Ready\tEvents: ["+strings.Join(x.events, ",")+"]")
	e.teleEvent(teleTypePlatform, "platform.extension", map[string]any{"name": x.name, "state": "Ready", "events": x.events})
	doc := map[string]string{"functionName": e.f.def.Name, "functionVersion": "$LATEST", "handler": e.f.def.Handler}
	if strings.Contains(r.Header.Get("Lambda-Extension-Accept-Feature"), "accountId") {
		doc["accountId"] = AccountID
	}
	w.Header()["Lambda-Extension-Identifier"] = []string{x.id}
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(http.StatusOK)
	json.NewEncoder(w).Encode(doc)
}

// register records a registration; on refusal x is nil with the HTTP
// status, error type and message.
func (s *extensions) register(name string, events []string) (x *extension, status int, typ, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.initOver {
		return nil, http.StatusForbidden, "Extension.InvalidStateTransition", "register: extensions register during the init phase only"
	}
	for _, y := range s.all {
		if y.name != name {
			continue
		}
		if y.id != "" {
			return nil, http.StatusConflict, "Extension.AlreadyRegistered", "register: extension " + name + " is already registered"
		}
		x = y
	}
	if x == nil { // an internal extension: a thread of the runtime's process
		if slices.Contains(events, eventShutdown) {
			return nil, http.StatusBadRequest, "ShutdownEventNotSupportedForInternalExtension", "register: internal extension " + name + " cannot register for SHUTDOWN"
		}
		x = &extension{name: name, next: make(chan struct{}, 1), event: make(chan []byte, 1)}
		s.all = append(s.all, x)
	} else {
		s.pending--
		if s.pending == 0 {
			close(s.registered)
		}
	}
	x.id = newRequestID()
	x.busy.Store(true) // until its first call to next
	x.events = slices.Clone(events)
	if x.events == nil {
		x.events = []string{}
	}
	s.byID[x.id] = x
	return x, 0, "", ""
}

// handleExtNext serves GET /2020-01-01/extension/event/next: the
// extension is done with the current phase; the call returns its next
// event.
func (e *env) handleExtNext(w http.ResponseWriter, r *http.Request) {
	x := e.exts.byHeader(r)
	if x == nil {
		writeAPIError(w, http.StatusForbidden, "Extension.UnknownExtensionIdentifier", "next: unknown or missing Lambda-Extension-Identifier")
		return
	}
	if x.busy.Swap(false) {
		x.done.Add(1)
		select {
		case x.next <- struct{}{}:
		default:
		}
	}
	select {
	case ev := <-x.event:
		x.busy.Store(true)
		w.Header()["Lambda-Extension-Event-Identifier"] = []string{newRequestID()}
		w.Header()["Content-Type"] = []string{"application/json"}
		w.WriteHeader(http.StatusOK)
		w.Write(ev)
	case <-e.closing:
		writeAPIError(w, http.StatusInternalServerError, "Runtime.Closing", "the execution environment is shutting down")
	case <-r.Context().Done():
	}
}

// handleExtError serves POST /2020-01-01/extension/{init,exit}/error.
func (e *env) handleExtError(w http.ResponseWriter, r *http.Request) {
	phase := r.PathValue("phase")
	if phase != "init" && phase != "exit" {
		writeAPIError(w, http.StatusNotFound, "InvalidRequest", "no such API: POST "+r.URL.Path+" (want init/error or exit/error)")
		return
	}
	x := e.exts.byHeader(r)
	if x == nil {
		writeAPIError(w, http.StatusForbidden, "Extension.UnknownExtensionIdentifier", "error: unknown or missing Lambda-Extension-Identifier")
		return
	}
	body, _ := readLimited(r.Body, maxErrorBytes)
	typ := r.Header.Get("Lambda-Extension-Function-Error-Type")
	if typ == "" {
		typ = "Extension.UnknownError"
	}
	payload, _ := normalizeError(body, typ)
	if e.inInit() { // init/error, or exit/error before init ended
		e.failInit(typ, payload)
	} else {
		e.extFailed(x, typ, payload)
	}
	writeAccepted(w)
}

// extFailed records an extension's failure during the invoke phase: the
// invocation running fails with typ and the environment ends after it.
func (e *env) extFailed(x *extension, typ string, payload []byte) {
	e.extErrOnce.Do(func() {
		e.extErrType, e.extErrPayload = typ, payload
		close(e.extErr)
	})
	e.setEndReason(EndCrash)
}

// endInit closes the registration window.
func (s *extensions) endInit() {
	s.mu.Lock()
	s.initOver = true
	s.mu.Unlock()
}

// registeredList returns the extensions that registered.
func (s *extensions) registeredList() []*extension {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*extension
	for _, x := range s.all {
		if x.id != "" {
			out = append(out, x)
		}
	}
	return out
}

// dispatch sends ev to every extension registered for it and returns them.
func (s *extensions) dispatch(kind string, ev []byte) []*extension {
	var to []*extension
	for _, x := range s.registeredList() {
		if !x.wants(kind) {
			continue
		}
		select { // a call to next the last phase did not wait for
		case <-x.next:
		default:
		}
		select {
		case x.event <- ev:
			x.given.Add(1)
		default: // it has not taken the last one yet
		}
		to = append(to, x)
	}
	return to
}

// waitNext waits until each of xs called next after the last event it
// was given (or exited), or until stop is closed or d passes; it returns
// the extensions still busy. An extension still at work on an earlier
// event (an invoke phase that timed out) must finish that one, take the
// last and call next again.
func waitNext(xs []*extension, stop <-chan struct{}, deadline <-chan time.Time) []*extension {
	for i, x := range xs {
		var gone chan struct{}
		if x.exited != nil {
			gone = x.exited
		}
		for x.done.Load() <= x.given.Load() {
			select {
			case <-x.next:
			case <-gone:
				return waitNext(xs[i+1:], stop, deadline)
			case <-stop:
				return xs[i:]
			case <-deadline:
				return xs[i:]
			}
		}
	}
	return nil
}

// registeredExts returns the registered extensions (nil without).
func (e *env) registeredExts() []*extension {
	if e.exts == nil {
		return nil
	}
	return e.exts.registeredList()
}

// invokeEvent is the INVOKE event of inv.
func (e *env) invokeEvent(inv *invocation) []byte {
	b, _ := json.Marshal(map[string]any{
		"eventType": eventInvoke, "deadlineMs": inv.deadline.UnixMilli(), "requestId": inv.id,
		"invokedFunctionArn": e.f.invokedARN(inv), "tracing": map[string]string{"type": "X-Amzn-Trace-Id", "value": inv.trace},
	})
	return b
}

// shutdownReason is the SHUTDOWN event's reason for the way the
// environment ends.
func shutdownReason(end string) string {
	switch end {
	case EndTimeout:
		return "timeout"
	case EndCrash:
		return "failure"
	default:
		return "spindown"
	}
}

// gracefulStop runs the shutdown phase (once) when an extension
// registered for SHUTDOWN: SIGTERM to the runtime (300 ms), then SHUTDOWN
// to the extensions, until 2000 ms after it began. The caller kills what
// is left.
func (e *env) gracefulStop() { e.gracefulOnce.Do(e.shutdownPhase) }

func (e *env) shutdownPhase() {
	var to []*extension
	for _, x := range e.registeredExts() {
		if x.wants(eventShutdown) {
			to = append(to, x)
		}
	}
	if len(to) == 0 || !e.alive() && !e.crashing() {
		return
	}
	start := time.Now()
	e.life.endMu.Lock()
	reason := shutdownReason(e.life.endReason)
	if e.life.endReason == "" && closed(e.rtDone) {
		reason = "failure" // the runtime exited on its own
	}
	e.life.endMu.Unlock()
	e.graceful.Store(true)
	defer close(e.gracefulDone)
	e.pidMu.Lock()
	pgid, pid := e.pgid, e.pid
	e.pidMu.Unlock()
	// Thawed, however it was frozen; never pgid 0: that would signal
	// lambdabridge's own group.
	if v1, v2 := e.v1Freeze(false), e.cgroupFreeze(false); !v1 && !v2 && pgid > 0 {
		syscall.Kill(-pgid, syscall.SIGCONT)
	}
	if pid > 0 && !closed(e.rtDone) { // a reaped pid may be another process's now
		syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-e.rtDone:
		case <-time.After(runtimeShutdownLimit):
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	deadline := start.Add(shutdownLimit)
	ev, _ := json.Marshal(map[string]any{"eventType": eventShutdown, "shutdownReason": reason, "deadlineMs": deadline.UnixMilli()})
	e.tele.flushAll()
	sent := e.exts.dispatch(eventShutdown, ev)
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	if left := waitNext(sent, nil, timer.C); len(left) > 0 {
		e.f.r.cfg.logger.Warn("extensions did not finish their shutdown within 2000 ms; killing them", "function", e.f.def.Name, "environment", e.id, "extensions", extNames(left))
	}
	e.tele.close(time.Until(deadline))
}

func extNames(xs []*extension) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.name
	}
	return out
}

// waitExtOutput waits (bounded) for the extensions' output to be read.
func (e *env) waitExtOutput(d time.Duration) {
	if e.exts == nil {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	for _, x := range e.exts.list() {
		for _, l := range []*lineReader{x.out, x.err} {
			if l == nil {
				continue
			}
			select {
			case <-l.done:
			case <-t.C:
				l.stop()
				<-l.done
			}
		}
	}
}

// stopIdle runs the shutdown phase of the idle environments, all at once
// (each is bounded by 2 s); Close then ends them.
func (f *fn) stopIdle() {
	f.mu.Lock()
	idle := slices.Clone(f.idle)
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, e := range idle {
		e.setEndReason(EndClosed)
		wg.Go(e.gracefulStop)
	}
	wg.Wait()
}

// nsArgv wraps argv to run in the function's mount namespace: as it is
// in the namespace made for the function, else in the mount script.
func (f *fn) nsArgv(argv []string) []string {
	if f.ns != nil {
		return argv
	}
	return nsArgv(f.nsSh, f.def.Layers, f.def.CodeDir, argv)
}

// dir is the working folder of a process started in dir: the script enters
// /var/task itself; in the namespace made for the function it is given.
func (f *fn) dir(dir string) string {
	if f.ns != nil {
		return taskRoot
	}
	return dir
}

// startCmd starts a process of the function's environments: in its mount
// namespace when one was made for it.
func (f *fn) startCmd(cmd *exec.Cmd) error {
	if f.ns != nil {
		return f.ns.start(cmd)
	}
	return cmd.Start()
}

// command is the argv that starts the function's runtime: in its mount
// namespace, a command under the code folder is run from /var/task.
func (f *fn) command() []string {
	if f.nsSh == "" {
		return f.def.Command
	}
	argv := slices.Clone(f.def.Command)
	if rel, err := filepath.Rel(f.def.CodeDir, argv[0]); err == nil && filepath.IsLocal(rel) {
		argv[0] = filepath.Join(taskRoot, rel)
	}
	return f.nsArgv(argv)
}

// taskRoot is where the code is seen in the mount namespace.
const taskRoot = "/var/task"

// setupLayers decides how the function sees its layers: in a private
// mount namespace, or (with a warning) at their own folders.
func (f *fn) setupLayers() {
	if len(f.def.Layers) == 0 {
		return
	}
	sh, why := mountTools(f.def.Layers)
	if why == "" {
		// Making the namespace is the proof the mounts work; without it
		// the probe decides.
		ns, err := spawnerFor(sh, f.def.Layers, f.def.CodeDir)
		if err == nil {
			f.nsSh, f.ns = sh, ns
			return
		}
		if sh, why = probeWith(sh, f.def.Layers); why == "" {
			f.nsSh = sh
			f.r.cfg.logger.Warn("function "+f.def.Name+": each of its processes mounts its layers at /opt for itself (one namespace for all: "+err.Error()+
				"): about 9 ms of CPU per process count in each environment's init phase and CPU share, which they do not on Lambda", "function", f.def.Name)
			return
		}
	}
	f.layerWarning = "function " + f.def.Name + ": its layers cannot be mounted at /opt (" + why + "): the code stays at " + f.def.CodeDir +
		" (LAMBDA_TASK_ROOT), the layers' folders are in LAMBDABRIDGE_OPT, the extensions run from there; a function that reads /opt directly will not find its layers"
	f.r.cfg.logger.Warn(f.layerWarning)
}

// closeAfterStart closes the write ends of a started process's pipes
// and, when it did not start (err), the read ends too; it returns err.
func closeAfterStart(err error, outW, errW, outR, errR *os.File) error {
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
	}
	return err
}

// outputPipes makes the stdout and stderr pipes of a process.
func outputPipes() (outR, outW, errR, errW *os.File, err error) {
	if outR, outW, err = os.Pipe(); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("stdout pipe: %w", err)
	}
	if errR, errW, err = os.Pipe(); err != nil {
		outR.Close()
		outW.Close()
		return nil, nil, nil, nil, fmt.Errorf("stderr pipe: %w", err)
	}
	return outR, outW, errR, errW, nil
}

// shutdownExts reports whether an extension registered for SHUTDOWN.
func (e *env) shutdownExts() bool {
	for _, x := range e.registeredExts() {
		if x.wants(eventShutdown) {
			return true
		}
	}
	return false
}

// peakNow is the memory peak of an environment whose runtime exited while
// its extensions live on: the cgroup's memory.peak where there is one,
// else the peak of the samples and high-water marks read so far.
func (e *env) peakNow() (int64, bool) {
	e.mem.mu.Lock()
	peak, exact := e.mem.peak, e.mem.answered
	e.mem.mu.Unlock()
	if e.cgDir != "" {
		if b, err := os.ReadFile(filepath.Join(e.cgDir, "memory.peak")); err == nil {
			if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
				return max(peak, n), false
			}
		}
	}
	return peak, !exact
}

// crashing reports whether the environment's runtime exited and the
// environment is otherwise intact (its extensions wait for SHUTDOWN).
func (e *env) crashing() bool { return closed(e.rtDone) && !closed(e.closing) }
