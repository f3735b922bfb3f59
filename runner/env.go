package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Limits Lambda applies to payloads.
const (
	maxResponseBytes = 6 * 1024 * 1024 // synchronous response payload
	maxErrorBytes    = 1 << 20
)

// env is one execution environment: a process group started from the
// function's command, with its own Runtime API server.
type env struct {
	f         *fn
	id        string
	logStream string
	cmd       *exec.Cmd
	pid, pgid int
	started   time.Time
	initDur   time.Duration

	ln  net.Listener
	srv *http.Server

	arrive  chan struct{}    // a call to /next arrived (buffered 1)
	work    chan *invocation // hands an invocation to the waiting /next
	closing chan struct{}    // closed by kill
	exited  chan struct{}    // closed once the process is reaped
	waitErr error            // valid after exited

	initFail    chan struct{} // closed when /runtime/init/error was posted
	initOnce    sync.Once
	initPayload []byte
	initType    string

	killOnce sync.Once
	pidMu    sync.Mutex // pgid between start and a concurrent kill
	cgDir    string     // the environment's cgroup, "" without
	cgFD     int
	cgUsed   bool   // a process was started in cgDir
	cpuDir   string // the environment's cgroup v1 cpu directory, "" without
	// frzDir is its cgroup v1 freezer directory (nil without): set as its
	// processes start, read by whoever freezes, thaws or kills it.
	frzDir   atomic.Pointer[string]
	mu       sync.Mutex
	cur      *invocation
	reqID    atomic.Pointer[string]
	tail     atomic.Pointer[tailBuf] // the current invocation's, when asked for
	lineNo   atomic.Int64
	out, err *lineReader

	frozen   int       // how it is frozen (notFrozen...); owned by the invoking goroutine
	lastUsed time.Time // guarded by fn.mu
	busy     atomic.Bool
	oom      atomic.Bool
	cut      atomic.Bool // ended by Shutdown or Close
	mem      memState
	life     lifecycleState

	// Extensions and Telemetry API (extensions.go, telemetry.go).
	exts          *extensions
	tele          telemetry
	teleInitOnce  sync.Once
	gracefulOnce  sync.Once
	graceful      atomic.Bool   // the shutdown phase runs: the runtime's exit does not end the environment
	gracefulDone  chan struct{} // closed when the shutdown phase is over
	rtDone        chan struct{} // closed once the runtime's process is reaped
	extErr        chan struct{} // closed when an extension failed during the invoke phase
	extErrOnce    sync.Once
	extErrType    string
	extErrPayload []byte
	// suppressed: its init runs in the invoke phase of a sandbox that was
	// reset or whose init failed (no INIT_START; platform.initStart with
	// phase invoke).
	suppressed bool
	again      int // how many environments had its id before (newEnvAs)
}

// invocation is one request handed to an environment.
type invocation struct {
	id       string
	req      Request
	trace    string
	start    time.Time
	deadline time.Time

	tail      *tailBuf
	answered  func() // called once the runtime has answered
	responded chan struct{}
	once      sync.Once
	respAt    time.Time
	payload   []byte
	isErr     bool
	errType   string
	streamed  bool // the response went to req.stream
}

func newInvocation(req Request) *invocation {
	inv := &invocation{id: req.id, req: req, responded: make(chan struct{}), answered: func() {}}
	if inv.id == "" {
		inv.id = newRequestID()
	}
	if req.Tail {
		inv.tail = &tailBuf{}
	}
	inv.trace = req.TraceID
	if inv.trace == "" {
		inv.trace = newTraceID()
	}
	return inv
}

// respond records the runtime's answer; false if it already answered.
func (inv *invocation) respond(payload []byte, isErr bool, errType string) bool {
	ok := false
	inv.once.Do(func() {
		inv.respAt = time.Now()
		inv.payload, inv.isErr, inv.errType = payload, isErr, errType
		close(inv.responded)
		ok = true
	})
	return ok
}

func newEnv(f *fn, id string) *env {
	e := &env{
		f:        f,
		id:       id,
		arrive:   make(chan struct{}, 1),
		work:     make(chan *invocation),
		closing:  make(chan struct{}),
		exited:   make(chan struct{}),
		initFail: make(chan struct{}),

		exts:         &extensions{byID: map[string]*extension{}, registered: make(chan struct{})},
		gracefulDone: make(chan struct{}),
		rtDone:       make(chan struct{}),
		extErr:       make(chan struct{}),
	}
	// The runner's id starts the random part: its processes can be told
	// by their AWS_LAMBDA_LOG_STREAM_NAME (see procTree).
	e.logStream = time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + f.r.id + randHex(12)
	empty := ""
	e.reqID.Store(&empty)
	return e
}

// serveRuntimeAPI starts the environment's Runtime API server on a free
// loopback port.
func (e *env) serveRuntimeAPI() error {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("runtime api: listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", e.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", e.handleResponse)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", e.handleError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", e.handleInitError)
	mux.HandleFunc("POST /2020-01-01/extension/register", e.handleRegister)
	mux.HandleFunc("GET /2020-01-01/extension/event/next", e.handleExtNext)
	mux.HandleFunc("POST /2020-01-01/extension/{phase}/error", e.handleExtError)
	mux.HandleFunc("PUT /2022-07-01/telemetry", e.handleSubscribe)
	e.ln = ln
	e.srv = &http.Server{Handler: mux, ErrorLog: log.New(io.Discard, "", 0)}
	go e.srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed
	return nil
}

// start starts the environment's process with stdin (nil: /dev/null).
func (e *env) start(argv, environ []string, dir string, stdin io.Reader) error {
	outR, outW, errR, errW, err := outputPipes()
	if err != nil {
		return err
	}
	e.setupCPU()
	run := func(cgroup bool) (cmd *exec.Cmd, inCgroup bool, err error) {
		cmd = exec.Command(argv[0], argv[1:]...)
		cmd.Dir = e.f.dir(dir)
		cmd.Env = environ
		cmd.Stdin = stdin
		cmd.Stdout = outW
		cmd.Stderr = errW
		cmd.SysProcAttr = e.procAttr(cgroup)
		e.envAttr(cmd.SysProcAttr)
		inCgroup = e.cgDir != ""
		if e.started.IsZero() || len(e.f.extPaths) == 0 {
			e.started = time.Now()
		}
		err = e.f.startCmd(cmd)
		e.doneStarting(err == nil)
		return cmd, inCgroup, err
	}
	cmd, inCgroup, err := run(true)
	if err != nil && inCgroup && !errors.Is(err, exec.ErrNotFound) && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, os.ErrPermission) {
		cmd, _, err = run(false) // CLONE_INTO_CGROUP refused
	}
	if err := closeAfterStart(err, outW, errW, outR, errR); err != nil {
		return err
	}
	e.cmd = cmd
	e.pidMu.Lock()
	e.pid = cmd.Process.Pid
	first := e.pgid == 0 // else it joined the extensions' group
	if first {
		e.pgid = e.pid
	}
	e.pidMu.Unlock()
	if closed(e.closing) { // killed while starting
		syscall.Kill(-e.pgid, syscall.SIGKILL)
	}
	if first {
		e.f.r.tree.tell("+", e.pgid)
	}
	e.attachCPU(e.pid)
	e.attachFreezer(e.pid)
	e.sample() // a floor, should it die before the next sample
	e.out = newLineReader(e, StreamStdout, outR)
	e.err = newLineReader(e, StreamStderr, errR)
	go e.out.run()
	go e.err.run()
	go func() {
		err := cmd.Wait()
		e.waitErr = err
		close(e.rtDone)
		switch {
		case e.busy.Load() && e.shutdownExts() && !e.graceful.Load() && e.alive():
			// The invocation reports the crash, then runs the
			// extensions' shutdown phase (crashed).
			<-e.gracefulDone
		case e.alive() || e.graceful.Load():
			// The runtime exited: the extensions' shutdown phase
			// (reason failure), or the one under way, goes on.
			e.gracefulStop()
		}
		e.kill() // what is left of the tree
		e.removeCgroup()
		e.removeCPU()
		e.removeFreezer()
		e.f.r.tree.tell("-", e.pgid)
		e.mem.closeFiles()
		if e.srv != nil {
			e.srv.Close()
		}
		close(e.exited)
	}()
	return nil
}

// kill ends the environment's whole process tree (see procTree).
func (e *env) kill() {
	e.killOnce.Do(func() {
		e.pidMu.Lock()
		defer e.pidMu.Unlock()
		close(e.closing)
		if e.pgid > 0 {
			e.killTree()
			syscall.Kill(-e.pgid, syscall.SIGKILL)
			e.cgroupFreeze(false) // a frozen process dies once thawed
			e.v1Freeze(false)
			syscall.Kill(-e.pgid, syscall.SIGCONT)
		}
	})
}

// shutdown kills the environment, reaps it and waits (bounded) for its
// output to be read.
func (e *env) shutdown() {
	defer e.ended()
	e.gracefulStop()
	e.kill()
	defer e.waitExtOutput(2 * time.Second)
	if e.cmd == nil {
		if e.srv != nil {
			e.srv.Close()
		}
		e.tele.close(0)
		return
	}
	select {
	case <-e.exited:
	case <-time.After(10 * time.Second):
		e.f.r.cfg.logger.Error("environment not reaped after SIGKILL", "function", e.f.def.Name, "environment", e.id, "pid", e.pid)
	}
	e.waitOutput(2 * time.Second)
	e.tele.close(0)
}

// waitOutput waits for both streams to reach EOF. After d (a process
// outside the environment may hold the pipes open) it tells the readers to
// deliver what the pipes hold and stop, and waits for that: a slow sink
// loses no line. Bytes a writer outside the environment keeps pushing are
// counted as dropped.
func (e *env) waitOutput(d time.Duration) {
	if e.out == nil {
		return
	}
	readers := []*lineReader{e.out, e.err}
	t := time.NewTimer(d)
	defer t.Stop()
	for _, l := range readers {
		select {
		case <-l.done:
		case <-t.C:
			for _, l := range readers {
				l.stop()
			}
		}
	}
	for _, l := range readers {
		<-l.done
	}
}

func (e *env) alive() bool {
	select {
	case <-e.closing:
		return false
	case <-e.exited:
		return false
	default:
		return true
	}
}

// How an environment was frozen (env.frozen).
const (
	notFrozen    = iota
	frozenV1     // its cgroup v1 freezer directory
	frozenV2     // its cgroup v2's freezer
	frozenSignal // SIGSTOP to its process group
)

// freeze stops the environment's processes between invocations: through
// a cgroup freezer, as Lambda does (no signal reaches them): a cgroup v1
// freezer where there is one, as Lambda's (it leaves sleeping threads
// asleep), else its cgroup v2's; else SIGSTOP to its process group (see
// freezer_linux.go).
func (e *env) freeze() {
	if !e.f.r.cfg.freeze || e.frozen != notFrozen || e.pgid <= 0 {
		return
	}
	switch {
	case e.v1Freeze(true):
		e.frozen = frozenV1
	case e.cgroupFreeze(true):
		e.frozen = frozenV2
	case syscall.Kill(-e.pgid, syscall.SIGSTOP) == nil:
		e.frozen = frozenSignal
	}
	if e.frozen != notFrozen {
		e.event(EnvFrozen, "")
	}
}

// thaw lets the environment's processes run again, as they were frozen.
func (e *env) thaw() {
	switch e.frozen {
	case frozenV1:
		e.v1Freeze(false)
	case frozenV2:
		e.cgroupFreeze(false)
	case frozenSignal:
		syscall.Kill(-e.pgid, syscall.SIGCONT)
	}
	e.frozen = notFrozen
}

// drain waits until the lines the environment wrote so far were handed to
// the log sink, so that they are tied to the request that wrote them.
func (e *env) drain() {
	if e.out == nil {
		return
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	for {
		if e.out.drained() && e.err.drained() {
			return
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(20 * time.Microsecond)
	}
}

func (e *env) setRequest(inv *invocation) {
	e.mu.Lock()
	e.cur = inv
	e.mu.Unlock()
	e.reqID.Store(&inv.id)
	e.tail.Store(inv.tail)
}

// tailBuf keeps the last maxTail bytes of an invocation's log.
type tailBuf struct {
	mu sync.Mutex
	b  []byte
}

const maxTail = 4096

func (t *tailBuf) add(line []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, line...)
	t.b = append(t.b, '\n')
	if over := len(t.b) - maxTail; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
}

func (t *tailBuf) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.b...)
}

func (e *env) current() *invocation {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cur
}

// Runtime API handlers.

func (e *env) handleNext(w http.ResponseWriter, r *http.Request) {
	select {
	case e.arrive <- struct{}{}:
	default:
	}
	select {
	case inv := <-e.work:
		h := w.Header()
		h["Lambda-Runtime-Aws-Request-Id"] = []string{inv.id}
		h["Lambda-Runtime-Deadline-Ms"] = []string{strconv.FormatInt(inv.deadline.UnixMilli(), 10)}
		h["Lambda-Runtime-Invoked-Function-Arn"] = []string{e.f.invokedARN(inv)}
		h["Lambda-Runtime-Trace-Id"] = []string{inv.trace}
		if inv.req.ClientContext != "" {
			h["Lambda-Runtime-Client-Context"] = []string{inv.req.ClientContext}
		}
		if inv.req.CognitoIdentity != "" {
			h["Lambda-Runtime-Cognito-Identity"] = []string{inv.req.CognitoIdentity}
		}
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{strconv.Itoa(len(inv.req.Payload))}
		w.WriteHeader(http.StatusOK)
		w.Write(inv.req.Payload)
	case <-e.closing:
		writeAPIError(w, http.StatusInternalServerError, "Runtime.Closing", "the execution environment is shutting down")
	case <-r.Context().Done():
	}
}

func (e *env) handleResponse(w http.ResponseWriter, r *http.Request) {
	inv := e.current()
	if inv == nil || inv.id != r.PathValue("id") {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "unknown or finished request id "+r.PathValue("id"))
		return
	}
	var body []byte
	var err error
	if inv.req.stream != nil {
		body, err = readStreamed(r.Body, inv.req.stream)
		inv.streamed = true
	} else {
		body, err = readLimited(r.Body, maxResponseBytes)
	}
	var ok bool
	switch {
	case err == errTooLarge:
		limit := maxResponseBytes
		if inv.streamed {
			limit = maxStreamBytes
		}
		msg := fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", limit)
		ok = inv.respond(errorPayload(msg, "Function.ResponseSizeTooLarge"), true, "Function.ResponseSizeTooLarge")
		if ok {
			writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", msg)
			return
		}
	case err != nil:
		msg := "reading the response: " + err.Error()
		ok = inv.respond(errorPayload(msg, "Runtime.TruncatedResponse"), true, "Runtime.TruncatedResponse")
	default:
		if t, p := trailerError(r.Trailer); t != "" {
			// A streamed response that failed midway.
			ok = inv.respond(p, true, t)
		} else {
			ok = inv.respond(body, false, "")
		}
	}
	if !ok {
		writeAPIError(w, http.StatusBadRequest, "InvalidStateTransition", "request "+inv.id+" already answered")
		return
	}
	e.readHWM(true) // it waits for this reply: alive
	writeAccepted(w)
}

func (e *env) handleError(w http.ResponseWriter, r *http.Request) {
	body, _ := readLimited(r.Body, maxErrorBytes)
	inv := e.current()
	if inv == nil || inv.id != r.PathValue("id") {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "unknown or finished request id "+r.PathValue("id"))
		return
	}
	payload, typ := normalizeError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))
	if !inv.respond(payload, true, typ) {
		writeAPIError(w, http.StatusBadRequest, "InvalidStateTransition", "request "+inv.id+" already answered")
		return
	}
	e.readHWM(true) // it waits for this reply: alive
	writeAccepted(w)
}

func (e *env) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, _ := readLimited(r.Body, maxErrorBytes)
	payload, typ := normalizeError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))
	if typ == "" || typ == "Unhandled" {
		typ = "Runtime.InitError"
	}
	first := false
	e.initOnce.Do(func() {
		e.initPayload, e.initType = payload, typ
		close(e.initFail)
		first = true
	})
	if !first {
		writeAPIError(w, http.StatusForbidden, "InvalidStateTransition", "init error already reported")
		return
	}
	writeAccepted(w)
}

var errTooLarge = fmt.Errorf("payload too large")

func readLimited(r io.Reader, max int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return b, err
	}
	if len(b) > max {
		io.Copy(io.Discard, r)
		return nil, errTooLarge
	}
	return b, nil
}

func writeAccepted(w http.ResponseWriter) {
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
}

func writeAPIError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(code)
	w.Write(errorPayload(msg, typ))
}

// errorPayload is Lambda's error document.
func errorPayload(msg, typ string) []byte {
	b, _ := json.Marshal(struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType,omitempty"`
	}{msg, typ})
	return b
}

// normalizeError returns the error payload a runtime posted (wrapped into
// Lambda's document when it is not JSON) and its type: the body's errorType,
// else the Lambda-Runtime-Function-Error-Type header.
func normalizeError(body []byte, header string) ([]byte, string) {
	var doc struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		typ := header
		if typ == "" {
			typ = "Unhandled"
		}
		return errorPayload(string(body), typ), typ
	}
	typ := doc.ErrorType
	if typ == "" {
		typ = header
	}
	if typ == "" {
		typ = "Unhandled"
	}
	return body, typ
}
