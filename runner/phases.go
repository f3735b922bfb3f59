package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// AccountID is the account id in the ARNs lambdabridge makes (functions,
// the extensions' register answer), the same as the templates'
// AWS::AccountId.
const AccountID = "123456789012"

// initOutcome waits for the end of the init phase: the runtime's first
// call to next and then every extension's. It returns an empty typ on
// success, else the error's type with its message or payload.
func (e *env) initOutcome(inv *invocation, res *Result, deadline time.Time, limit time.Duration) (typ, msg string, payload []byte) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	timedOut := func() (string, string, []byte) {
		return "Sandbox.Timedout", "RequestId: " + inv.id + " Error: init phase timed out after " + strconv.FormatFloat(limit.Seconds(), 'f', 2, 64) + " seconds", nil
	}
	select {
	case <-e.arrive:
		left := waitNext(e.registeredExts(), e.initFail, timer.C)
		switch {
		case closed(e.initFail):
			return e.initType, "", e.initPayload
		case len(left) > 0:
			return timedOut()
		}
		if e.exts != nil {
			e.exts.endInit()
		}
		return "", "", nil
	case <-e.initFail:
		return e.initType, "", e.initPayload
	case <-e.rtDone:
		typ, msg = "Runtime.ExitError", "RequestId: "+inv.id+" Error: "+exitReason(e.waitErr)
		switch {
		case e.cut.Load():
			typ, msg, res.Cut = ErrorTypeShutdown, cutMessage(inv.id), true
		case e.oom.Load():
			typ = "Runtime.OutOfMemory"
		}
		return typ, msg, nil
	case <-timer.C:
		return timedOut()
	}
}

// invokePhaseEnd waits, after the runtime's answer, for the runtime and
// the extensions given the INVOKE event to call next, within the
// invocation's timeout; Duration runs until then. It reports whether the
// environment is still usable (to be frozen).
func (e *env) invokePhaseEnd(inv *invocation, res *Result, exts []*extension, timeout <-chan time.Time) bool {
	select {
	case <-e.arrive:
	case <-e.rtDone: // it exited after answering (a panic)
		res.Duration = time.Since(inv.start)
		if !e.shutdownExts() { // else it is reaped after their shutdown phase
			e.waitExited()
		}
		return false
	case <-timeout:
		e.lateTimeout(inv, res, "the runtime did not ask for its next invocation")
		return false
	}
	if left := waitNext(exts, e.rtDone, timeout); len(left) > 0 {
		if closed(e.rtDone) {
			res.Duration = time.Since(inv.start)
			if !e.shutdownExts() {
				e.waitExited()
			}
			return false
		}
		e.lateTimeout(inv, res, "extensions "+strconv.Quote(extNames(left)[0])+" did not ask for their next event")
		return false
	}
	res.Duration = time.Since(inv.start)
	if typ, payload := e.extFailure(); typ != "" {
		e.setEndReason(EndCrash)
		e.kill()
		res.FunctionError, res.ErrorType, res.Payload = "Unhandled", typ, payload
		e.platform(inv.id, "RequestId: "+inv.id+" Error: "+string(payload))
		e.platform(inv.id, typ)
		return false
	}
	return true
}

// lateTimeout ends an invocation whose runtime answered but whose invoke
// phase (the runtime's or an extension's work after the answer) outlasted
// the function's timeout, as Lambda reports it: a timeout.
func (e *env) lateTimeout(inv *invocation, res *Result, why string) {
	d := e.f.def.Timeout
	e.f.r.cfg.logger.Warn("invoke phase timed out after the answer: "+why, "function", e.f.def.Name, "environment", e.id)
	e.reset()
	e.setEndReason(EndTimeout)
	e.platform(inv.id, time.Now().UTC().Format("2006-01-02T15:04:05.000Z")+" "+inv.id+" "+timeoutMessage(d))
	res.Duration = d
	res.TimedOut = true
	res.FunctionError, res.ErrorType = "Unhandled", "Sandbox.Timedout"
	res.Payload = errorPayload("RequestId: "+inv.id+" Error: "+timeoutMessage(d), "Sandbox.Timedout")
	// The caller writes END and REPORT, then stops the environment
	// (stopLate): the extensions get the report before their SHUTDOWN.
}

// stopLate ends the environment of an invocation that timed out after
// its answer, once its REPORT is out: the extensions' shutdown phase
// (reason timeout), then the kill.
func (e *env) stopLate(res *Result) {
	if res.TimedOut {
		e.gracefulStop()
		e.kill()
	}
}

// extFailure returns the error of an extension that failed during the
// invoke phase (exit/error, or an external extension that exited).
func (e *env) extFailure() (string, []byte) {
	if closed(e.extErr) {
		return e.extErrType, e.extErrPayload
	}
	for _, x := range e.registeredExts() {
		if x.exited != nil && closed(x.exited) {
			msg := "extension " + x.name + " exited during the invoke phase"
			return "Extension.Crash", errorPayload(msg, "Extension.Crash")
		}
	}
	return "", nil
}

// teleRuntimeDone publishes platform.runtimeDone once the runtime answered.
func (e *env) teleRuntimeDone(inv *invocation, res *Result) {
	status := "success"
	if res.FunctionError != "" {
		status = "error"
	}
	rec := map[string]any{"requestId": inv.id, "status": status,
		"metrics": map[string]any{"durationMs": msf(res.Duration), "producedBytes": len(res.Payload)},
		"tracing": map[string]string{"type": "X-Amzn-Trace-Id", "value": inv.trace},
		"spans":   []map[string]any{{"name": "responseLatency", "start": inv.start.UTC().Format(teleTime), "durationMs": msf(res.Duration)}},
	}
	if res.ErrorType != "" {
		rec["errorType"] = res.ErrorType
	}
	e.teleEvent(teleTypePlatform, "platform.runtimeDone", rec)
}

// teleRuntimeEnded publishes platform.runtimeDone for an invocation the
// runtime did not answer (status failure or timeout), as Lambda does, so
// that an extension waiting for the runtime's end learns it.
func (e *env) teleRuntimeEnded(inv *invocation, status, errType string) {
	e.teleEvent(teleTypePlatform, "platform.runtimeDone", map[string]any{
		"requestId": inv.id, "status": status, "errorType": errType,
		"metrics": map[string]any{"durationMs": msf(time.Since(inv.start)), "producedBytes": 0},
	})
}

// waitExited waits (bounded by the shutdown phase's limit) until the
// exited environment is reaped, so that its memory peak can be read.
func (e *env) waitExited() {
	select {
	case <-e.exited:
	case <-time.After(shutdownLimit + time.Second):
	}
}

// initStartLine is the INIT_START line: the runtime and its version (the
// runtime identifier; lambdabridge has no runtime versions of its own).
func (e *env) initStartLine() string {
	rt := e.f.def.Runtime
	if rt == "" {
		rt = "provided.al2023"
	}
	version := strings.Replace(rt, ".", ":", 1) + ".lambdabridge"
	return "INIT_START Runtime Version: " + version + "\tRuntime Version ARN: arn:aws:lambda:" + e.f.r.cfg.region + "::runtime:" + version
}

// readPayload reads a request body of at most limit bytes; for a larger
// one it returns errTooLarge and the body's size.
func readPayload(r io.Reader, limit int) ([]byte, int64, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, int64(len(b)), err
	}
	if len(b) > limit {
		n, _ := io.Copy(io.Discard, r)
		return nil, int64(len(b)) + n, errTooLarge
	}
	return b, int64(len(b)), nil
}

// checkJSON says why a payload is not one JSON document, as Lambda refuses
// it before running the function.
func checkJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("could not parse payload into json: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("could not parse payload into json: more than one JSON document")
	}
	return nil
}

// invocationType names an X-Amz-Invocation-Type for messages.
func invocationType(t string) string {
	if t == "" {
		return "RequestResponse"
	}
	return t
}

// invokeRequest reads an invoke API request as Lambda checks it: a known
// function, a payload of at most limit bytes (413 with its size), one JSON
// document (400); false when it answered with an error.
func (r *Runner) invokeRequest(w http.ResponseWriter, req *http.Request, limit int, op string) (string, Request, bool) {
	name, qualifier := r.resolve(req.PathValue("name"), req.URL.Query().Get("Qualifier"))
	if _, ok := r.fns[name]; !ok {
		writeLambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: arn:aws:lambda:"+r.cfg.region+":"+AccountID+":function:"+name)
		return "", Request{}, false
	}
	body, size, err := readPayload(req.Body, limit)
	switch {
	case err == errTooLarge:
		writeLambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", fmt.Sprintf("%d byte payload is too large for the %s (limit %d bytes)", size, op, limit))
		return "", Request{}, false
	case err != nil:
		writeLambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "reading the request: "+err.Error())
		return "", Request{}, false
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := checkJSON(body); err != nil {
		writeLambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: "+err.Error())
		return "", Request{}, false
	}
	return name, Request{Payload: body, Qualifier: qualifier, TraceID: req.Header.Get("X-Amzn-Trace-Id"), Tail: req.Header.Get("X-Amz-Log-Type") == "Tail"}, true
}
