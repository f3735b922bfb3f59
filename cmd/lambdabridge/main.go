// Command lambdabridge runs AWS Lambda functions locally the way Lambda does,
// finds the metrics they emit (CloudWatch EMF, Datadog MONITORING and JSON
// lines, DogStatsD), validates them, and delivers them to Prometheus.
//
// main only wires: every subcommand lives in its own file, whose registerX
// function binds its flags (kingpin, as the Prometheus tools do) to a small
// struct and calls the packages; cli.go holds the parser, help and errors.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/lambdabridge/lambdabridge/extension"
)

func main() {
	// Started as the extension (a layer's extensions/lambdabridge-extension
	// may be this executable: compare's extension strategy, layer build
	// --binary), it is the extension.
	if filepath.Base(os.Args[0]) == extension.Name {
		os.Exit(extension.Main(context.Background(), extension.Name, version, os.Getenv, os.Stderr))
	}
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

// Run parses args (the command line without the program name) and runs the
// command they select.
func (m *Main) Run(ctx context.Context, args []string) error {
	c := newCLI(m)
	run, err := c.parse(args)
	if err != nil || run == nil {
		return err
	}
	return run(ctx, m)
}

// Exit codes, the same for every command. The README's "Exit status" table
// says the same; TestExitCodes drives every command through them.
const (
	// exitOK: the command did what was asked and found nothing wrong.
	exitOK = 0
	// exitFailure: a negative result: validation errors (warnings too with
	// --strict), a failed or timed-out invocation, any sample a sink dropped.
	exitFailure = 1
	// exitUsage: bad flags or arguments, an unreadable file, an I/O error.
	exitUsage = 2
)

// exitTable is the table above as the help and the README show it.
const exitTable = `Exit status (every command):
  0  success
  1  a negative result: validation errors, a failed invocation, any sample a
     sink dropped, any value the aggregation dropped (all reasons but
     superseded and mapping_drop), any datagram the kernel dropped
  2  usage or I/O error`

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

// Exit prints err (if any) on one line and maps it to the process exit code.
func (m *Main) Exit(err error) int {
	if err == nil {
		return exitOK
	}
	var f *failure
	if errors.As(err, &f) {
		if f.msg != "" {
			fmt.Fprintln(m.Stderr, "lambdabridge:", f.msg)
		}
		return exitFailure
	}
	fmt.Fprintln(m.Stderr, "lambdabridge:", err)
	return exitUsage
}
