package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/metric"
)

// Errors callers branch on.
var (
	// ErrThrottled: the function's reserved concurrency is used up (Lambda's
	// 429 TooManyRequestsException). The request was not run.
	ErrThrottled = errors.New("runner: throttled: reserved concurrency exceeded")
	// ErrUnknownFunction: no function of that name (Lambda's 404).
	ErrUnknownFunction = errors.New("runner: function not found")
	// ErrClosed: the runner was closed.
	ErrClosed = errors.New("runner: closed")
)

// Option configures a Runner.
type Option func(*config)

type config struct {
	logs        LogSink
	platform    PlatformSink
	logger      *slog.Logger
	concurrency int
	reserved    int
	idleTimeout time.Duration
	initTimeout time.Duration
	freeze      bool
	region      string
	maxLine     int
	memInterval time.Duration
	environ     func() []string
	hostEnv     []string
	lifecycle   func(EnvEvent)
	envVars     func(function, environment string) []string
	cgroups     bool
	asyncDelay  time.Duration
	debug       bool
}

// WithLogSink sets where log lines go (default: nowhere).
func WithLogSink(s LogSink) Option { return func(c *config) { c.logs = s } }

// WithPlatformSink sets where platform metrics go (default: nowhere).
func WithPlatformSink(s PlatformSink) Option { return func(c *config) { c.platform = s } }

// WithLogger sets the runner's own logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithConcurrency sets how many environments of one function may run at once
// (default 1). Requests beyond wait in a queue; they are never rejected.
func WithConcurrency(n int) Option { return func(c *config) { c.concurrency = n } }

// WithReservedConcurrency sets the function's reserved concurrency: a request
// arriving while that many are waiting for their answer (queued, or running
// until the runtime answers) is throttled (ErrThrottled, 429), and no more
// than that many environments run at once. 0 (default) means no limit.
func WithReservedConcurrency(n int) Option { return func(c *config) { c.reserved = n } }

// WithIdleTimeout sets how long an idle environment is kept warm before it is
// recycled (default 5 minutes; 0 or less: never).
func WithIdleTimeout(d time.Duration) Option { return func(c *config) { c.idleTimeout = d } }

// WithInitTimeout bounds the init phase, from process start to the first
// call to /runtime/invocation/next (default 10 s, as on Lambda).
func WithInitTimeout(d time.Duration) Option { return func(c *config) { c.initTimeout = d } }

// WithFreeze turns freezing idle environments on or off (default on): as
// Lambda freezes them, through a cgroup v1 freezer where there is one, else
// the environment's cgroup v2 freezer, else SIGSTOP/SIGCONT on its process
// group (see freezer_linux.go; Stats.Freeze says which). An environment is
// frozen when its invocation ends, unless a request is already waiting for
// it.
func WithFreeze(on bool) Option { return func(c *config) { c.freeze = on } }

// WithRegion sets AWS_REGION and the region in function ARNs (default
// us-east-1).
func WithRegion(r string) Option { return func(c *config) { c.region = r } }

// WithMaxLineSize sets the longest log line handed over whole (default
// 1 MiB + 4 KiB); longer lines arrive in pieces of that size.
func WithMaxLineSize(n int) Option { return func(c *config) { c.maxLine = n } }

// WithMemorySampleInterval sets how often the memory of running environments
// is sampled (default 10 ms).
func WithMemorySampleInterval(d time.Duration) Option {
	return func(c *config) { c.memInterval = d }
}

// WithCgroups turns the cgroup v2 per environment on or off (default on,
// where the hierarchy is writable). In its cgroup, every process a function
// starts dies with its environment, whatever it did to leave; without it,
// the process group, the descendants of the environment's process and the
// processes that inherited its AWS_LAMBDA_LOG_STREAM_NAME are ended. In
// both cases a watchdog ends them when lambdabridge itself is killed.
func WithCgroups(on bool) Option { return func(c *config) { c.cgroups = on } }

// WithEnviron sets where the host environment is read from (default
// os.Environ). Only GOCOVERDIR, the AWS credential variables and the keys
// given to WithHostEnv are passed to functions (and HOME to the Python and
// Ruby runtimes): a Lambda environment is clean; PATH, LD_LIBRARY_PATH and
// LANG are Lambda's.
func WithEnviron(f func() []string) Option { return func(c *config) { c.environ = f } }

// WithHostEnv passes more host variables to the functions.
func WithHostEnv(keys ...string) Option {
	return func(c *config) { c.hostEnv = append(c.hostEnv, keys...) }
}

// Request is one invocation's input.
type Request struct {
	Payload []byte
	// ClientContext and CognitoIdentity are passed to the runtime as JSON in
	// Lambda-Runtime-Client-Context and Lambda-Runtime-Cognito-Identity.
	ClientContext   string
	CognitoIdentity string
	// TraceID is the X-Ray trace header; a new one is made when empty.
	TraceID string
	// Qualifier is the version or alias the caller named (the invoke API's
	// name:qualifier), given to the runtime in the invoked function's ARN.
	Qualifier string
	// Tail asks for the last 4 KB of the invocation's log in
	// Result.LogTail (the invoke API's X-Amz-Log-Type: Tail).
	Tail bool

	// stream, when set, gets the runtime's response as it arrives
	// (InvokeWithResponseStream).
	stream func([]byte)
	// id, when set, is the request id (an async event's retries keep it).
	id string
	// early, when set, gets the result as soon as the runtime has
	// answered, before the invocation ends (the invoke API answers then,
	// as Lambda does); the Result is the final one's prefix: no REPORT
	// values yet.
	early func(*Result)
}

// Result is one invocation's outcome, with what REPORT says about it.
type Result struct {
	RequestID   string
	Function    string
	Environment string
	// Payload is the response, or for a function error Lambda's error
	// payload {"errorMessage","errorType",...}.
	Payload []byte
	// FunctionError is "Unhandled" when the function failed (Lambda's
	// X-Amz-Function-Error header), empty on success.
	FunctionError string
	// ErrorType is the error's type: the runtime's (e.g. "errorString"),
	// or the platform's: Runtime.ExitError, Runtime.InitError,
	// Runtime.OutOfMemory, Sandbox.Timedout, Function.ResponseSizeTooLarge.
	ErrorType string
	TimedOut  bool
	ColdStart bool
	Duration  time.Duration
	// RuntimeDuration is the runtime's part of Duration: until its answer
	// (platform.runtimeDone's durationMs). Duration - RuntimeDuration is
	// the time extensions worked after the answer, Lambda's
	// PostRuntimeExtensionsDuration. It is 0 when the runtime did not
	// answer (a crash, a timeout).
	RuntimeDuration time.Duration
	BilledDuration  time.Duration
	InitDuration    time.Duration // cold starts only
	MemorySizeMB    int
	MaxMemoryUsed   int64 // bytes
	// MemoryApproximate: MaxMemoryUsed is the peak of the runner's samples
	// (every WithMemorySampleInterval), because the kernel's own peak
	// (VmHWM, or the reaped process's maximum RSS) could not be read; the
	// real peak may be higher.
	MemoryApproximate bool
	// Cut: the runner was shut down while the invocation ran and ended it
	// (ErrorType is ErrorTypeShutdown).
	Cut   bool
	Start time.Time
	// streamed: the response went to Request.stream as it arrived.
	streamed bool
	// initRetry: the init phase failed and is to be run again in the
	// invoke phase (fn.run).
	initRetry bool
	// LogTail is the end of the invocation's log, START to REPORT, at most
	// 4 KB, when Request.Tail asked for it.
	LogTail []byte
}

// Failed reports whether the invocation is an error (function error,
// timeout, crash, init error).
func (r *Result) Failed() bool { return r.FunctionError != "" }

// MaxMemoryUsedMB is Max Memory Used as REPORT prints it.
func (r *Result) MaxMemoryUsedMB() int { return ceilMB(r.MaxMemoryUsed) }

// Runner runs the execution environments of a set of functions. It is safe
// for concurrent use.
type Runner struct {
	cfg    config
	fns    map[string]*fn
	names  []string
	sinkMu sync.Mutex

	closeMu   sync.RWMutex // orders wg.Add and calls.Add before their Wait
	closeOnce sync.Once
	closed    chan struct{}
	wg        sync.WaitGroup // async invocations, sampler
	stopOnce  sync.Once
	stopping  chan struct{}  // closed by Shutdown or Close: no new invocation
	calls     sync.WaitGroup // invocation calls in progress
	cutting   atomic.Bool    // Shutdown's deadline passed
	tree      procTree
	cpu       cpuLimiter
	frz       freezerV1
	id        string // 8 hex digits that start its log stream names
}

// New returns a runner for defs. It starts no process until the first
// invocation. Close it to end every environment.
func New(defs []function.Definition, opts ...Option) (*Runner, error) {
	c := config{
		concurrency: 1,
		idleTimeout: 5 * time.Minute,
		initTimeout: 10 * time.Second,
		freeze:      true,
		region:      "us-east-1",
		maxLine:     1<<20 + 4096,
		memInterval: 10 * time.Millisecond,
		environ:     os.Environ,
		cgroups:     true,
		asyncDelay:  time.Second,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.logger == nil {
		c.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.concurrency < 1 {
		return nil, fmt.Errorf("runner: concurrency %d: want at least 1", c.concurrency)
	}
	if c.reserved < 0 {
		return nil, fmt.Errorf("runner: reserved concurrency %d: want 0 (none) or more", c.reserved)
	}
	if c.maxLine < 64 {
		c.maxLine = 64
	}
	if c.memInterval <= 0 {
		c.memInterval = 10 * time.Millisecond
	}
	if c.initTimeout <= 0 {
		c.initTimeout = 10 * time.Second
	}
	if len(defs) == 0 {
		return nil, errors.New("runner: no function to run")
	}
	r := &Runner{cfg: c, fns: map[string]*fn{}, closed: make(chan struct{}), stopping: make(chan struct{}), tree: procTree{disabled: !c.cgroups}, id: randHex(4)}
	for _, d := range defs {
		if _, dup := r.fns[d.Name]; dup {
			return nil, fmt.Errorf("runner: function %q defined twice", d.Name)
		}
		if len(d.Command) == 0 {
			return nil, fmt.Errorf("runner: function %s: %w: no command to start", d.Name, function.ErrRuntimeUnavailable)
		}
		if d.MemoryMB <= 0 {
			d.MemoryMB = function.DefaultMemoryMB
		}
		if d.Timeout <= 0 {
			d.Timeout = function.DefaultTimeout
		}
		if d.Architecture == "" {
			d.Architecture = function.DefaultArchitecture
		}
		f := newFn(r, d)
		r.fns[d.Name] = f
		r.names = append(r.names, d.Name)
	}
	for _, n := range r.names {
		r.fns[n].emitZero()
	}
	r.wg.Add(1)
	go r.housekeeping()
	return r, nil
}

// Functions returns the names of the functions, in definition order.
func (r *Runner) Functions() []string { return append([]string(nil), r.names...) }

// Definition returns the definition of the function called name.
func (r *Runner) Definition(name string) (function.Definition, bool) {
	f, ok := r.fns[name]
	if !ok {
		return function.Definition{}, false
	}
	return f.def, true
}

// Invoke runs one invocation of the function called name and waits for it
// (RequestResponse). A function error, timeout or crash is a Result with
// FunctionError set, not an error; errors are ErrThrottled,
// ErrUnknownFunction, ErrClosed, ctx's error while the request waits in the
// queue, or a failure to start the environment's process. Once running, an
// invocation goes on to its end even if ctx ends.
func (r *Runner) Invoke(ctx context.Context, name string, req Request) (*Result, error) {
	f, ok := r.fns[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownFunction, name)
	}
	return f.invoke(ctx, req)
}

// InvokeAsync queues one invocation (Lambda's Event invocation type) and
// returns at once; the result goes only to the sinks (and the statistics).
// A failed invocation is retried, a throttled one requeued (see
// AsyncStats).
func (r *Runner) InvokeAsync(name string, req Request) error {
	f, ok := r.fns[name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownFunction, name)
	}
	r.closeMu.RLock()
	defer r.closeMu.RUnlock()
	if r.isStopping() {
		return f.refuse()
	}
	f.asyncCount(func(a *AsyncStats) { a.Accepted++; a.Pending++ })
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f.runAsync(req)
	}()
	return nil
}

// Close ends every environment (SIGKILL to its process tree), reaps the
// processes and waits for the async invocations. Invocations waiting in the
// queue get ErrClosed; invocations running are cut (see Shutdown, which
// gives them time first).
func (r *Runner) Close() error {
	r.closeMu.Lock()
	r.stopOnce.Do(func() { close(r.stopping) })
	r.closeOnce.Do(func() { close(r.closed) })
	r.closeMu.Unlock()
	for _, n := range r.names {
		r.fns[n].stopIdle() // the shutdown phase of their extensions
	}
	r.cutting.Store(true)
	for _, n := range r.names {
		r.fns[n].cutAll()
	}
	for _, n := range r.names {
		r.fns[n].closeAll()
	}
	r.wg.Wait()
	// Environments started by invocations that raced with Close.
	for _, n := range r.names {
		r.fns[n].closeAll()
	}
	r.tree.close()
	r.cpu.close()
	r.frz.close()
	return nil
}

func (r *Runner) isClosed() bool { return closed(r.closed) }

// line hands one line to the log sink.
func (r *Runner) line(o metric.Origin, stream string, b []byte) {
	if r.cfg.logs == nil {
		return
	}
	r.sinkMu.Lock()
	r.cfg.logs.Line(o, stream, b)
	r.sinkMu.Unlock()
}

// housekeeping samples the memory of running environments and recycles idle
// ones, until Close.
func (r *Runner) housekeeping() {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.memInterval)
	defer t.Stop()
	var lastScan, lastIdle time.Time
	for {
		select {
		case <-r.closed:
			return
		case now := <-t.C:
			rescan := now.Sub(lastScan) >= 200*time.Millisecond
			if rescan {
				lastScan = now
			}
			r.sampleMemory(rescan)
			if now.Sub(lastIdle) >= min(time.Second, max(r.cfg.idleTimeout/4, r.cfg.memInterval)) {
				lastIdle = now
				for _, n := range r.names {
					r.fns[n].recycleIdle(now)
				}
			}
		}
	}
}
