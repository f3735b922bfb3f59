// Command lambdabridge runs AWS Lambda functions locally the way Lambda does,
// finds the metrics they emit (CloudWatch EMF, Datadog MONITORING and JSON
// lines, DogStatsD), validates them, and delivers them to Prometheus.
//
// main only wires: every subcommand lives in its own file with its own flag
// set and registers itself in commands; the logic lives in the packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	os.Exit(m.Exit(m.Run(ctx, os.Args[1:])))
}

// Main holds the process' standard streams so commands can be tested.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads the environment (tests replace it).
	Getenv func(string) string
}

// NewMain returns a Main wired to the process' streams.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// command is one subcommand. run parses its own flags from args.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, m *Main, args []string) error
}

var commands = map[string]command{}

// register adds a subcommand; each command file calls it from init.
func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("lambdabridge: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// Run runs the subcommand named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		m.usage(m.Stdout)
		if len(args) == 0 {
			return usageErrorf("no command given")
		}
		return nil
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(m.Stdout, "lambdabridge", version)
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		return usageErrorf("unknown command %q (run 'lambdabridge help')", args[0])
	}
	return c.run(ctx, m, args[1:])
}

var version = "dev"

func (m *Main) usage(w io.Writer) {
	fmt.Fprintln(w, "lambdabridge: Lambda function metrics, locally, into Prometheus and Grafana.")
	fmt.Fprintln(w, "\nUsage: lambdabridge <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'lambdabridge <command> -h' for the flags of one command.")
}

// Exit codes, mapped in one place.
const (
	exitOK      = 0
	exitFailure = 1 // the input or the function failed (validation errors, function error)
	exitUsage   = 2 // bad flags, unreadable files, I/O errors
)

// usageError is a bad invocation: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// failure reports a completed run whose result is negative (exit 1), such as
// validation errors found; the command has already printed the details.
type failure struct{ msg string }

func (e *failure) Error() string { return e.msg }

// errFlagHelp is returned when -h was asked for; it exits 0.
var errFlagHelp = errors.New("help requested")

// Exit prints err (if any) and maps it to the process exit code.
func (m *Main) Exit(err error) int {
	if err == nil || errors.Is(err, errFlagHelp) {
		return exitOK
	}
	var u *usageError
	var f *failure
	switch {
	case errors.As(err, &f):
		if f.msg != "" {
			fmt.Fprintln(m.Stderr, "lambdabridge:", f.msg)
		}
		return exitFailure
	case errors.As(err, &u):
		fmt.Fprintln(m.Stderr, "lambdabridge:", u.msg)
		return exitUsage
	}
	fmt.Fprintln(m.Stderr, "lambdabridge:", err)
	return exitUsage
}
