package compare

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"
)

// traffic counts requests and bytes of one strategy.
type traffic struct {
	requests atomic.Int64
	bytes    atomic.Int64
}

// countingProxy forwards every request to a backend and counts requests
// and request-body bytes: what an environment sends.
type countingProxy struct {
	ln  net.Listener
	srv *http.Server
	t   *traffic
}

// newCountingProxy starts the proxy; its forwarding errors (a request the
// run's end cancelled) go to log at debug level, not to the standard logger.
func newCountingProxy(target string, t *traffic, log *slog.Logger) (*countingProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		log.Debug("counting proxy", "target", target, "path", r.URL.Path, "err", err)
		w.WriteHeader(http.StatusBadGateway)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.requests.Add(1)
		if r.Body != nil {
			r.Body = &countingBody{ReadCloser: r.Body, n: &t.bytes}
		}
		rp.ServeHTTP(w, r)
	})
	p := &countingProxy{ln: ln, srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, t: t}
	go func() {
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener closed under us: Close follows
		}
	}()
	return p, nil
}

// URL is the proxy's base URL, with the path of the target's requests.
func (p *countingProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *countingProxy) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = p.srv.Shutdown(ctx)
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// countingWriter counts the bytes of a response.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}
