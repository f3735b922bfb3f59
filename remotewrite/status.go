package remotewrite

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lambdabridge/lambdabridge/internal/errtext"
)

// URL returns the endpoint as it may be shown: no credentials, no query.
func (w *Writer) URL() string { return w.display }

// LastError returns the last failure of a send, retried or not, in a few
// words ("connection refused", "HTTP 400: out of order sample"), or "" when
// no send failed. It stays set after later successes: a summary shows what
// went wrong last.
func (w *Writer) LastError() string {
	if s := w.lastErr.Load(); s != nil {
		return *s
	}
	return ""
}

// noteErr records err as the last failure, unless the writer's own
// shutdown caused it (a cut drain says so in the drop reason, and the
// error that mattered is kept).
func (w *Writer) noteErr(err error) {
	if err == nil || w.kill.Err() != nil {
		return
	}
	var he *httpError
	s := errtext.Cause(err)
	if errors.As(err, &he) {
		s = fmt.Sprintf("HTTP %d: %s", he.status, strings.TrimSpace(he.body))
	}
	w.lastErr.Store(&s)
}
