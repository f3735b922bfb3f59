// Package function describes the Lambda functions lambdabridge runs: what to
// start for one execution environment, with which memory, timeout,
// architecture and environment, read from command-line flags or from a SAM
// template.
//
//	defs, err := function.FromTemplate("template.yaml")  // every AWS::Serverless::Function
//	d, err := function.FromHandler("./bootstrap", function.WithMemoryMB(256))
//	if err := d.Validate(); err != nil { ... }            // Lambda's limits, runtime present
package function

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Lambda's limits and defaults (the same as SAM's defaults).
const (
	DefaultMemoryMB     = 128
	MinMemoryMB         = 128
	MaxMemoryMB         = 10240
	DefaultTimeout      = 3 * time.Second
	MinTimeout          = 1 * time.Second
	MaxTimeout          = 900 * time.Second
	DefaultArchitecture = "x86_64"
	DefaultRuntime      = "provided.al2023"
)

// ErrRuntimeUnavailable is wrapped by the error that says a function's
// runtime cannot be started here (runtime interface client not installed,
// unsupported runtime, no bootstrap).
var ErrRuntimeUnavailable = errors.New("runtime unavailable")

// Definition is one function: how to start one execution environment of it
// and the settings Lambda would give it.
//
// The runner starts Command with the working directory CodeDir (which is also
// LAMBDA_TASK_ROOT), _HANDLER set to Handler, and Env added to the reserved
// Lambda variables. Definitions from FromTemplate may hold a function that
// cannot run here (Command empty): Validate says why.
type Definition struct {
	// Name is the function's name: the logical id in a SAM template, or the
	// --name flag (default: derived from the handler path).
	Name string
	// Handler is the handler setting as given to the runtime in _HANDLER.
	Handler string
	// Runtime is the Lambda runtime identifier, e.g. "provided.al2023".
	Runtime string
	// CodeDir is the absolute directory holding the code (SAM CodeUri).
	CodeDir string
	// Command is the argv that starts one environment.
	Command []string
	// MemoryMB is the configured memory, 128..10240.
	MemoryMB int
	// Timeout is the invocation timeout, at most 900 s.
	Timeout time.Duration
	// Architecture is "x86_64" or "arm64" (prices differ).
	Architecture string
	// Env holds the function's own environment variables (SAM
	// Environment.Variables, --env); the runner adds the reserved ones.
	Env map[string]string
	// Layers are directories whose contents the function and its
	// extensions see at /opt (SAM Layers, --layer), in order: a later
	// layer's file replaces an earlier one's. The executables in their
	// extensions/ folders are the function's external extensions.
	Layers []string
	// Logging is the function's LoggingConfig (log format and levels).
	Logging Logging
	// EventInvoke is the function's EventInvokeConfig: how Event
	// (asynchronous) invocations are retried.
	EventInvoke EventInvoke
	// Exec marks a plain script that does not speak the Runtime API: the
	// event on stdin, logs from stdout/stderr, exit code 0 is success.
	Exec bool
	// Warnings are problems found while reading the definition that did not
	// stop it (an unresolved !Ref kept literally, layers not run locally).
	Warnings []string

	// cmdErr is why Command could not be built (see Validate).
	cmdErr error
}

// Option sets a field of a Definition built by FromHandler.
type Option func(*Definition)

// WithName sets the function name.
func WithName(name string) Option { return func(d *Definition) { d.Name = name } }

// WithMemoryMB sets the memory size in MB.
func WithMemoryMB(mb int) Option { return func(d *Definition) { d.MemoryMB = mb } }

// WithTimeout sets the invocation timeout (see ParseTimeout for flags).
func WithTimeout(t time.Duration) Option { return func(d *Definition) { d.Timeout = t } }

// WithArchitecture sets "x86_64" or "arm64".
func WithArchitecture(arch string) Option { return func(d *Definition) { d.Architecture = arch } }

// WithEnv adds environment variables (later values win).
func WithEnv(env map[string]string) Option {
	return func(d *Definition) {
		if d.Env == nil {
			d.Env = make(map[string]string, len(env))
		}
		for k, v := range env {
			d.Env[k] = v
		}
	}
}

// WithExec marks the handler as a plain script (no Runtime API).
func WithExec(exec bool) Option { return func(d *Definition) { d.Exec = exec } }

// WithHandler sets the _HANDLER value (default: the handler file's name).
func WithHandler(h string) Option { return func(d *Definition) { d.Handler = h } }

// WithArgs appends arguments to the command.
func WithArgs(args ...string) Option {
	return func(d *Definition) { d.Command = append(d.Command, args...) }
}

// FromHandler returns the definition of a function whose environment is
// started by running the executable at path: a custom-runtime bootstrap (a Go
// binary built with aws-lambda-go, a shell script using curl), or with
// WithExec a plain script. Defaults: name from the path (the directory's name
// for a file called bootstrap), 128 MB, 3 s, x86_64, runtime provided.al2023.
// The result is validated.
func FromHandler(path string, opts ...Option) (Definition, error) {
	if path == "" {
		return Definition{}, errors.New("function: empty handler path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Definition{}, fmt.Errorf("function: handler %s: %w", path, err)
	}
	d := Definition{
		Name:         nameFromPath(abs),
		Handler:      filepath.Base(abs),
		Runtime:      DefaultRuntime,
		CodeDir:      filepath.Dir(abs),
		Command:      []string{abs},
		MemoryMB:     DefaultMemoryMB,
		Timeout:      DefaultTimeout,
		Architecture: DefaultArchitecture,
		Env:          map[string]string{},
	}
	for _, o := range opts {
		o(&d)
	}
	if err := d.Validate(); err != nil {
		return Definition{}, err
	}
	return d, nil
}

// nameFromPath derives a function name from a handler path:
// examples/go-emf/bootstrap -> go-emf, ./hello.sh -> hello.
func nameFromPath(abs string) string {
	base := filepath.Base(abs)
	if base == "bootstrap" {
		base = filepath.Base(filepath.Dir(abs))
	} else if ext := filepath.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	name := invalidNameChars().ReplaceAllString(base, "-")
	if name == "" || strings.Trim(name, "-") == "" {
		return "function"
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

var (
	invalidNameChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9_-]+`) })
	validName        = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`) })
)

// Validate checks the definition against Lambda's limits (name, memory
// 128..10240 MB, 0 < timeout <= 900 s, architecture) and that its command can
// start here: the executable exists and is executable, or the runtime's
// interface client is installed. Errors name the function and the fix.
func (d Definition) Validate() error {
	var errs []error
	name := d.Name
	if !validName().MatchString(d.Name) {
		errs = append(errs, fmt.Errorf("name %q: must be 1..64 letters, digits, '-' or '_'", d.Name))
		if name == "" {
			name = "(unnamed)"
		}
	}
	if d.MemoryMB < MinMemoryMB || d.MemoryMB > MaxMemoryMB {
		errs = append(errs, fmt.Errorf("memory %d MB: Lambda allows %d..%d MB", d.MemoryMB, MinMemoryMB, MaxMemoryMB))
	}
	if d.Timeout <= 0 || d.Timeout > MaxTimeout {
		errs = append(errs, fmt.Errorf("timeout %s: Lambda allows up to %d seconds", d.Timeout, int(MaxTimeout/time.Second)))
	}
	switch d.Architecture {
	case "x86_64", "arm64", "":
	default:
		errs = append(errs, fmt.Errorf("architecture %q: want x86_64 or arm64", d.Architecture))
	}
	switch {
	case d.cmdErr != nil:
		errs = append(errs, d.cmdErr)
	case len(d.Command) == 0:
		errs = append(errs, fmt.Errorf("%w: no command to start", ErrRuntimeUnavailable))
	default:
		if err := checkExecutable(d.Command[0]); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("function %s: %w", name, errors.Join(errs...))
}

// checkExecutable reports whether argv0 can be started: an absolute or
// relative path must be an executable regular file; a bare name must be on
// PATH.
func checkExecutable(argv0 string) error {
	if !strings.ContainsRune(argv0, os.PathSeparator) {
		if _, err := lookPath(argv0); err != nil {
			return fmt.Errorf("%w: %s not found on PATH", ErrRuntimeUnavailable, argv0)
		}
		return nil
	}
	fi, err := os.Stat(argv0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			hint := ""
			if filepath.Base(argv0) == "bootstrap" {
				hint = " (build it, e.g. GOOS=linux go build -o " + argv0 + " ., or run sam build)"
			}
			return fmt.Errorf("%w: %s does not exist%s", ErrRuntimeUnavailable, argv0, hint)
		}
		return fmt.Errorf("%w: %w", ErrRuntimeUnavailable, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("%w: %s is a directory, not an executable", ErrRuntimeUnavailable, argv0)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%w: %s is not executable (chmod +x %s)", ErrRuntimeUnavailable, argv0, argv0)
	}
	return nil
}

// ParseTimeout parses a timeout the way users write it: seconds as in SAM
// ("3", "2.5") or a Go duration ("3s", "1500ms", "1m"). Lambda's range
// 1 s..900 s applies.
func ParseTimeout(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("timeout: empty")
	}
	var d time.Duration
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f != f || f > float64(MaxTimeout/time.Second)*10 || f < -1e6 {
			return 0, fmt.Errorf("timeout %q: Lambda allows 1..900 seconds", s)
		}
		d = time.Duration(f * float64(time.Second))
	} else {
		d, err = time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("timeout %q: want seconds (3, 2.5) or a duration (3s, 1500ms)", s)
		}
	}
	if d < MinTimeout || d > MaxTimeout {
		return 0, fmt.Errorf("timeout %q: Lambda allows 1..900 seconds", s)
	}
	return d, nil
}

// ParseEnv parses K=V pairs (repeated --env flags) into a map; later pairs
// win. A pair without '=' or with an empty key is an error.
func ParseEnv(pairs []string) (map[string]string, error) {
	env := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("env %q: want KEY=VALUE", p)
		}
		env[k] = v
	}
	return env, nil
}

// Find returns the definition called name among defs.
func Find(defs []Definition, name string) (Definition, error) {
	names := make([]string, 0, len(defs))
	for _, d := range defs {
		if d.Name == name {
			return d, nil
		}
		names = append(names, d.Name)
	}
	return Definition{}, fmt.Errorf("function %q not found (have: %s)", name, strings.Join(names, ", "))
}
