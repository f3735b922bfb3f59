package runner

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/lambdabridge/lambdabridge/internal/httpguard"
	"github.com/lambdabridge/lambdabridge/internal/loopback"
)

// Payload limits of the invoke API: Lambda accepts a synchronous request
// of up to 6 MiB + 100 bytes (its quota is 6 MB "including overhead"), an
// asynchronous one of up to 1 MiB.
const (
	maxSyncRequestBytes  = 6*1024*1024 + 100
	maxAsyncRequestBytes = 1024 * 1024
)

// Handler serves Lambda's invoke API,
// POST /2015-03-31/functions/{name}/invocations, so that curl and
// `aws lambda invoke --endpoint-url` work. {name} may be a function name, an
// ARN or name:qualifier; "function" (the runtime interface emulator's name)
// stands for the only function when there is one. X-Amz-Invocation-Type
// RequestResponse (default) waits for the result, Event answers 202 at once,
// DryRun 204. X-Amz-Log-Type: Tail returns the last 4 KB of the
// invocation's log in X-Amz-Log-Result (base64). A function error is a 200 with X-Amz-Function-Error:
// Unhandled; throttling a 429 TooManyRequestsException.
//
// Requests a web page could send through the user's browser are refused
// (internal/httpguard): a Host that is not localhost or a loopback IP (DNS
// rebinding) with 421, a cross-site POST with 403 AccessDeniedException.
func (r *Runner) Handler() http.Handler { return r.handler("") }

// handler is Handler for a server listening on addr ("" for loopback only).
func (r *Runner) handler(addr string) http.Handler {
	g, err := httpguard.New(httpguard.WithAddr(addr), httpguard.WithDeny(denyBrowser))
	if err != nil { // only bad trusted origins fail, and there are none
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", r.handleInvoke)
	mux.HandleFunc("POST /2021-11-15/functions/{name}/response-streaming-invocations", r.handleInvokeStream)
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		writeLambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "no such API: "+req.Method+" "+req.URL.Path)
	})
	return g.Handler(mux)
}

// denyBrowser answers a request httpguard refused, as the Lambda API
// answers errors.
func denyBrowser(w http.ResponseWriter, _ *http.Request, code int, err error) {
	typ := "AccessDeniedException"
	if code == http.StatusMisdirectedRequest {
		typ = "MisdirectedRequestException"
	}
	writeLambdaError(w, code, typ, err.Error())
}

// ListenLoopback listens on addr ("127.0.0.1:9001", "localhost:0",
// "[::1]:9001"), which must be a loopback address: the invoke API has no
// authentication.
func ListenLoopback(addr string) (net.Listener, error) {
	if err := loopback.Check(addr); err != nil {
		return nil, fmt.Errorf("runner: api %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("runner: api: %w", err)
	}
	return ln, nil
}

// Serve serves the invoke API (see Handler) on ln until ctx ends, then shuts
// down gracefully (requests in flight get up to 5 s to be answered; with
// ShutdownOn their invocations are cut at its drain deadline, which answers
// them) and returns nil.
func (r *Runner) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: r.handler(ln.Addr().String()), ErrorLog: log.New(io.Discard, "", 0), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("runner: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-errc
	return nil
}

// resolve returns the function a path's {name} names (a name, an ARN or
// name:qualifier) and the qualifier; the ?Qualifier= parameter also sets it.
func (r *Runner) resolve(name, qualifier string) (string, string) {
	if i := strings.LastIndex(name, ":function:"); i >= 0 {
		name = name[i+len(":function:"):]
	}
	if i := strings.IndexByte(name, ':'); i >= 0 {
		name, qualifier = name[:i], name[i+1:]
	}
	if _, ok := r.fns[name]; !ok && name == "function" && len(r.names) == 1 {
		return r.names[0], qualifier
	}
	return name, qualifier
}

func (r *Runner) handleInvoke(w http.ResponseWriter, req *http.Request) {
	typ := req.Header.Get("X-Amz-Invocation-Type")
	limit := maxSyncRequestBytes
	if typ == "Event" {
		limit = maxAsyncRequestBytes
	}
	name, in, ok := r.invokeRequest(w, req, limit, invocationType(typ)+" invocation type")
	if !ok {
		return
	}
	if cc := req.Header.Get("X-Amz-Client-Context"); cc != "" {
		dec, err := base64.StdEncoding.DecodeString(cc)
		if err != nil || !json.Valid(dec) {
			writeLambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "X-Amz-Client-Context must be base64-encoded JSON")
			return
		}
		in.ClientContext = string(dec)
	}
	switch typ {
	case "Event":
		if err := r.InvokeAsync(name, in); err != nil {
			writeInvokeError(w, err)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
	case "", "RequestResponse":
		res, err := r.invokeEarly(req.Context(), name, in)
		if err != nil {
			writeInvokeError(w, err)
			return
		}
		h := w.Header()
		h["X-Amzn-Requestid"] = []string{res.RequestID}
		h["X-Amz-Executed-Version"] = []string{"$LATEST"}
		h["Content-Type"] = []string{"application/json"}
		if res.FunctionError != "" {
			h["X-Amz-Function-Error"] = []string{res.FunctionError}
		}
		if in.Tail {
			h["X-Amz-Log-Result"] = []string{base64.StdEncoding.EncodeToString(res.LogTail)}
		}
		w.WriteHeader(http.StatusOK)
		w.Write(res.Payload)
	default:
		writeLambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "X-Amz-Invocation-Type must be RequestResponse, Event or DryRun")
	}
}

// invokeEarly returns the result as soon as the runtime has answered, as
// Lambda answers its caller; the invocation ends (END, REPORT, freeze) in
// the background. With a log tail asked for, it waits for the end.
func (r *Runner) invokeEarly(ctx context.Context, name string, in Request) (*Result, error) {
	if in.Tail {
		return r.Invoke(ctx, name, in)
	}
	type outcome struct {
		res *Result
		err error
	}
	ch := make(chan outcome, 2)
	in.early = func(res *Result) { ch <- outcome{res, nil} }
	r.closeMu.RLock()
	if r.isClosed() {
		r.closeMu.RUnlock()
		return nil, ErrClosed
	}
	r.wg.Add(1)
	r.closeMu.RUnlock()
	go func() {
		defer r.wg.Done()
		res, err := r.Invoke(ctx, name, in)
		ch <- outcome{res, err}
	}()
	o := <-ch
	return o.res, o.err
}

func writeInvokeError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrThrottled):
		w.Header().Set("Retry-After", "1")
		b, _ := json.Marshal(map[string]string{"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate Exceeded."})
		w.Header().Set("X-Amzn-Errortype", "TooManyRequestsException")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write(b)
	case errors.Is(err, ErrUnknownFunction):
		writeLambdaError(w, http.StatusNotFound, "ResourceNotFoundException", err.Error())
	case errors.Is(err, ErrClosed):
		writeLambdaError(w, http.StatusServiceUnavailable, "ServiceException", "lambdabridge is shutting down")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeLambdaError(w, http.StatusGatewayTimeout, "ServiceException", "the request was cancelled while waiting for an execution environment")
	default:
		writeLambdaError(w, http.StatusBadGateway, "ServiceException", err.Error())
	}
}

// writeLambdaError answers like the Lambda API: the type in
// X-Amzn-ErrorType, {"Type","message"} in the body.
func writeLambdaError(w http.ResponseWriter, code int, typ, msg string) {
	kind := "User"
	if code >= 500 {
		kind = "Service"
	}
	b, _ := json.Marshal(map[string]string{"Type": kind, "message": msg})
	w.Header().Set("X-Amzn-Errortype", typ)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}
