package function

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Logging is a function's LoggingConfig, as Lambda applies it: with the
// JSON format, the runtime gets AWS_LAMBDA_LOG_FORMAT=JSON and
// AWS_LAMBDA_LOG_LEVEL, application lines below ApplicationLevel are
// dropped (a line that is not a JSON object with a "level" is INFO) and the
// platform lines are JSON platform.* events, those below SystemLevel
// dropped. The levels only apply with the JSON format.
type Logging struct {
	// Format is "Text" (default) or "JSON".
	Format string
	// ApplicationLevel is TRACE, DEBUG, INFO (default), WARN, ERROR or FATAL.
	ApplicationLevel string
	// SystemLevel is DEBUG, INFO (default) or WARN.
	SystemLevel string
	// LogGroup is the log group's name (default /aws/lambda/<name>).
	LogGroup string
}

// Log levels, lowest first.
var (
	AppLevels    = []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}
	SystemLevels = []string{"DEBUG", "INFO", "WARN"}
)

// JSON reports whether the format is JSON.
func (l Logging) JSON() bool { return strings.EqualFold(l.Format, "JSON") }

// check returns the problems of a LoggingConfig.
func (l Logging) check() []error {
	var errs []error
	if l.Format != "" && !strings.EqualFold(l.Format, "JSON") && !strings.EqualFold(l.Format, "Text") {
		errs = append(errs, fmt.Errorf("LoggingConfig LogFormat %q: want Text or JSON", l.Format))
	}
	if l.ApplicationLevel != "" && !slices.Contains(AppLevels, strings.ToUpper(l.ApplicationLevel)) {
		errs = append(errs, fmt.Errorf("LoggingConfig ApplicationLogLevel %q: want one of %s", l.ApplicationLevel, strings.Join(AppLevels, ", ")))
	}
	if l.SystemLevel != "" && !slices.Contains(SystemLevels, strings.ToUpper(l.SystemLevel)) {
		errs = append(errs, fmt.Errorf("LoggingConfig SystemLogLevel %q: want one of %s", l.SystemLevel, strings.Join(SystemLevels, ", ")))
	}
	return errs
}

// EventInvoke is a function's EventInvokeConfig.
type EventInvoke struct {
	// MaximumRetryAttempts is how many times a failed asynchronous
	// invocation is retried, 0..2; nil means Lambda's default, 2.
	MaximumRetryAttempts *int
	// MaximumEventAge is how long an event may wait (throttled, or between
	// retries), 60 s..6 h; 0 means Lambda's default, 6 hours.
	MaximumEventAge time.Duration
}

// Retries returns MaximumRetryAttempts or its default, 2.
func (c EventInvoke) Retries() int {
	if c.MaximumRetryAttempts == nil {
		return 2
	}
	return *c.MaximumRetryAttempts
}

// MaxAge returns MaximumEventAge or its default, 6 hours.
func (c EventInvoke) MaxAge() time.Duration {
	if c.MaximumEventAge <= 0 {
		return 6 * time.Hour
	}
	return c.MaximumEventAge
}
