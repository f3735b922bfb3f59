package runner

import (
	"encoding/json"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Stats sums up the invocations of one function so far.
type Stats struct {
	Function string
	// Requests = Invocations + Throttles; Invocations = Successes + Errors.
	Requests, Invocations, Successes, Errors, Timeouts, Throttles, ColdStarts int64
	// Duration and InitDuration are quantiles of the measured durations.
	Duration, InitDuration Quantiles
	BilledDuration         time.Duration
	MaxMemoryUsed          int64 // bytes, the peak over all invocations
	CostUSD                float64
	// LogBytesDropped counts output bytes never delivered as lines: a
	// process outside an ended environment kept its output pipe full (see
	// WithLogSink). It is 0 unless something escaped the environment.
	LogBytesDropped int64
	// Cut counts the invocations ended by Shutdown (or Close) while they
	// ran (also in Errors); Refused the requests refused because the
	// runner was stopping, queued or new (not in Requests).
	Cut, Refused int64
	// CPU says how the CPU of its environments is limited ("0.072 vCPU
	// (cgroup v2 cpu quota)", "not limited (why)"; "" before the first
	// environment).
	CPU string
	// Freeze says how its idle environments are frozen: "cgroup v1
	// freezer" (Lambda's), "cgroup v2 freezer", "SIGSTOP" or "off" ("" before
	// the first environment).
	Freeze string
	// FreezeWakesPollers: the freezer wakes a thread that waits in
	// epoll_wait (an event loop's, the Go runtime's poller's) to stop it
	// and again to let it go on. The cgroup v1 freezer does so from Linux
	// 6.1 on, which reworked the freezer; before, as on the Linux 4.14
	// seen inside Lambda (awsdocs/aws-lambda-developer-guide issue 185,
	// 2020), such a thread stayed asleep. The v2 freezer and SIGSTOP wake
	// every thread.
	FreezeWakesPollers bool
	// Async accounts for the Event (asynchronous) invocations.
	Async AsyncStats
	// ErrorTypes counts the failed invocations by error type
	// (Result.ErrorType; "" when the runtime gave none), and FirstError is
	// the first one's "type: message", at most 200 bytes, control
	// characters escaped.
	ErrorTypes map[string]int64
	FirstError string
	// Running and Environments are the invocations running and the
	// environments alive now.
	Running, Environments int
}

// Quantiles summarizes a set of durations.
type Quantiles struct {
	Count               int64
	Mean, P50, P99, Max time.Duration
}

// maxSamples bounds the memory kept for quantiles (reservoir sampling
// beyond).
const maxSamples = 100_000

type stats struct {
	invocations, successes, errors, timeouts, throttles, coldStarts int64
	dur, init                                                       sampleSet
	billed                                                          time.Duration
	maxMem                                                          int64
	cost                                                            float64
	logDropped, cut, refused                                        int64
	errorTypes                                                      map[string]int64
	firstError                                                      string
}

type sampleSet struct {
	n   int64
	sum time.Duration
	max time.Duration
	s   []time.Duration
}

func (s *sampleSet) add(d time.Duration) {
	s.n++
	s.sum += d
	s.max = max(s.max, d)
	if len(s.s) < maxSamples {
		s.s = append(s.s, d)
		return
	}
	if i := rand.Int64N(s.n); i < maxSamples {
		s.s[i] = d
	}
}

func (s *sampleSet) quantiles() Quantiles {
	q := Quantiles{Count: s.n, Max: s.max}
	if s.n == 0 {
		return q
	}
	q.Mean = s.sum / time.Duration(s.n)
	c := slices.Clone(s.s)
	slices.Sort(c)
	q.P50 = quantile(c, 0.50)
	q.P99 = quantile(c, 0.99)
	return q
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func (s *stats) record(res *Result, c float64) {
	s.invocations++
	if res.Failed() {
		s.errors++
		s.failed(res)
	} else {
		s.successes++
	}
	if res.TimedOut {
		s.timeouts++
	}
	if res.Cut {
		s.cut++
	}
	if res.ColdStart {
		s.coldStarts++
		if res.InitDuration > 0 {
			s.init.add(res.InitDuration)
		}
	}
	s.dur.add(res.Duration)
	s.billed += res.BilledDuration
	s.maxMem = max(s.maxMem, res.MaxMemoryUsed)
	s.cost += c
}

// failed counts res's error type and keeps the first error's message.
func (s *stats) failed(res *Result) {
	if s.errorTypes == nil {
		s.errorTypes = map[string]int64{}
	}
	s.errorTypes[res.ErrorType]++
	if s.firstError != "" {
		return
	}
	var doc struct {
		ErrorMessage string `json:"errorMessage"`
	}
	msg := string(res.Payload)
	if json.Unmarshal(res.Payload, &doc) == nil && doc.ErrorMessage != "" {
		msg = doc.ErrorMessage
	}
	if res.ErrorType != "" {
		msg = res.ErrorType + ": " + msg
	}
	s.firstError = shorten(escapeControls(msg), 200)
}

// escapeControls writes control characters as Go escapes (a function's
// message never reaches the terminal as control sequences).
func escapeControls(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// shorten cuts s to at most n bytes on a rune boundary, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// logDropped counts n output bytes of e's stream that were never delivered.
func (f *fn) logDropped(e *env, stream string, n int64) {
	f.mu.Lock()
	f.st.logDropped += n
	f.mu.Unlock()
	f.r.cfg.logger.Warn("output dropped: a process outside the ended environment kept the pipe full",
		"function", f.def.Name, "environment", e.id, "stream", stream, "bytes", n)
}

// Stats returns the statistics of the function called name.
func (r *Runner) Stats(name string) (Stats, bool) {
	f, ok := r.fns[name]
	if !ok {
		return Stats{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s := &f.st
	return Stats{
		Function:           name,
		Requests:           s.invocations + s.throttles,
		Invocations:        s.invocations,
		Successes:          s.successes,
		Errors:             s.errors,
		Timeouts:           s.timeouts,
		Throttles:          s.throttles,
		ColdStarts:         s.coldStarts,
		Duration:           s.dur.quantiles(),
		InitDuration:       s.init.quantiles(),
		BilledDuration:     s.billed,
		MaxMemoryUsed:      s.maxMem,
		CostUSD:            s.cost,
		LogBytesDropped:    s.logDropped,
		Cut:                s.cut,
		Refused:            s.refused,
		Async:              f.async,
		CPU:                r.cpu.describe(f.def.MemoryMB),
		Freeze:             r.freezeMode(),
		FreezeWakesPollers: r.freezeWakesPollers(),
		ErrorTypes:         maps.Clone(s.errorTypes),
		FirstError:         s.firstError,
		Running:            f.running,
		Environments:       len(f.envs),
	}, true
}
