package pushgw

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lambdabridge/lambdabridge/internal/errtext"
)

// LastError returns the last failure of a push or delete in a few words
// ("connection refused", "HTTP 400: pushed metrics are invalid..."), or ""
// when none failed. It stays set after later successes: a summary shows
// what went wrong last.
func (s *Sink) LastError() string {
	if p := s.lastErr.Load(); p != nil {
		return *p
	}
	return ""
}

// noteErr records err as the last failure.
func (s *Sink) noteErr(err error) {
	var se *StatusError
	text := errtext.Cause(err)
	if errors.As(err, &se) {
		text = fmt.Sprintf("HTTP %d: %s", se.Code, strings.TrimSpace(se.Body))
	}
	s.lastErr.Store(&text)
}

// Interval is Config.Interval: how often the sink is meant to push (0:
// after every invocation).
func (s *Sink) Interval() time.Duration { return s.cfg.Interval }
