package runner

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"time"
)

// ErrorTypeShutdown is the error type of an invocation the runner ended
// because it was shut down (Shutdown's deadline passed, or Close) while the
// invocation ran: its environment was killed, as Lambda kills an
// environment it takes away.
const ErrorTypeShutdown = "Sandbox.Shutdown"

// Shutdown stops the runner within ctx, as Lambda takes environments away:
//
//  1. at once, new requests and the requests still waiting for an
//     environment get ErrClosed (counted in Stats.Refused);
//  2. the invocations in flight may finish until ctx ends;
//  3. then those still running are ended: their environment's process tree
//     is killed, each is reported as an error of type ErrorTypeShutdown with
//     its END and REPORT lines, and counted in Stats.Cut (and Errors);
//  4. every environment is closed (Close).
//
// It returns ctx's error when invocations had to be cut, else nil. A context
// that is already done ends the invocations at once: a CLI passes a context
// that its drain timeout and a second interrupt both cancel. Shutdown may
// be called with Drive, Invoke or Serve running: they return as their
// invocations end.
func (r *Runner) Shutdown(ctx context.Context) error {
	r.closeMu.Lock()
	r.stopOnce.Do(func() { close(r.stopping) })
	r.closeMu.Unlock()
	done := make(chan struct{})
	go func() {
		r.calls.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		r.cutting.Store(true)
		// Repeat: an invocation may be between taking an environment and
		// starting its process.
		t := time.NewTicker(50 * time.Millisecond)
	cut:
		for {
			for _, n := range r.names {
				r.fns[n].cutAll()
			}
			select {
			case <-done:
				break cut
			case <-t.C:
			}
		}
		t.Stop()
	}
	r.Close()
	return err
}

// ShutdownOn shuts the runner down (Shutdown) once ctx ends, giving the
// invocations in flight up to drain, less if one of sigs arrives meanwhile
// (a second Ctrl-C ends them at once). Call stop when the run ends: it
// stops watching ctx and waits for a shutdown in progress. A CLI whose ctx
// ends at the first SIGINT or SIGTERM wires it with one line:
//
//	defer r.ShutdownOn(ctx, drainTimeout, os.Interrupt, syscall.SIGTERM)()
func (r *Runner) ShutdownOn(ctx context.Context, drain time.Duration, sigs ...os.Signal) (stop func()) {
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-quit:
			return
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.Background(), drain)
		defer cancel()
		if len(sigs) > 0 {
			ch := make(chan os.Signal, 1)
			signal.Notify(ch, sigs...)
			defer signal.Stop(ch)
			go func() {
				select {
				case s := <-ch:
					r.cfg.logger.Warn("second signal: ending the invocations in flight now", "signal", s.String())
					cancel()
				case <-sctx.Done():
				}
			}()
		}
		if err := r.Shutdown(sctx); err != nil {
			r.cfg.logger.Warn("invocations in flight were cut at shutdown", "err", err)
		}
	}()
	return sync.OnceFunc(func() {
		close(quit)
		<-finished
	})
}

// enter registers an invocation call; false once the runner is stopping.
func (r *Runner) enter() bool {
	r.closeMu.RLock()
	defer r.closeMu.RUnlock()
	if r.isStopping() {
		return false
	}
	r.calls.Add(1)
	return true
}

func (r *Runner) isStopping() bool { return closed(r.stopping) }

// refuse counts a request refused because the runner is stopping.
func (f *fn) refuse() error {
	f.mu.Lock()
	f.st.refused++
	f.mu.Unlock()
	return ErrClosed
}

// cutAll ends every environment of the function, reporting the invocations
// running in them as cut.
func (f *fn) cutAll() {
	f.mu.Lock()
	all := make([]*env, 0, len(f.envs))
	for e := range f.envs {
		all = append(all, e)
	}
	f.mu.Unlock()
	for _, e := range all {
		e.cut.Store(true)
		e.setEndReason(EndClosed)
		e.kill()
	}
}

// cutMessage is the error message of a cut invocation.
func cutMessage(id string) string {
	return "RequestId: " + id + " Error: the execution environment was shut down before the invocation ended (the runner stopped)"
}

// cutBeforeStart reports an invocation that reached an environment after
// the shutdown deadline: no process is started for it.
func (e *env) cutBeforeStart(inv *invocation) *Result {
	f := e.f
	e.setRequest(inv)
	e.cut.Store(true)
	e.setEndReason(EndClosed)
	e.kill()
	res := &Result{RequestID: inv.id, Function: f.def.Name, Environment: e.id, MemorySizeMB: f.def.MemoryMB, Start: time.Now(), Cut: true}
	msg := cutMessage(inv.id)
	e.platform(inv.id, "START RequestId: "+inv.id+" Version: $LATEST")
	e.platform(inv.id, msg)
	e.platform(inv.id, ErrorTypeShutdown)
	res.Payload, res.FunctionError, res.ErrorType = errorPayload(msg, ErrorTypeShutdown), "Unhandled", ErrorTypeShutdown
	e.end(res)
	return res
}
