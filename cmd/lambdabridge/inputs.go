package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/validate"
)

// eachInput calls fn for every named file, or for standard input when
// names is empty or a name is "-". A file that cannot be opened is a usage
// error (exit 2).
func (m *Main) eachInput(names []string, fn func(name string, r io.Reader) error) error {
	if len(names) == 0 {
		names = []string{"-"}
	}
	for _, name := range names {
		if name == "-" {
			if err := fn("-", m.Stdin); err != nil {
				return err
			}
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			return usageErrorf("%v", err)
		}
		err = fn(name, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
	}
	return nil
}

// nowFlag binds --now.
func nowFlag(cmd *kingpin.CmdClause, target *string) {
	cmd.Flag("now", "check EMF timestamps against this time (RFC 3339) instead of the clock").PlaceHolder("TIME").StringVar(target)
}

// clockFlag parses --now, which pins the clock EMF timestamps are checked
// against (for reproducible output on old logs and in tests).
func clockFlag(s string) (func() time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, usageErrorf("--now: %v (want RFC 3339, like 2026-11-23T10:00:00Z)", err)
	}
	return func() time.Time { return t }, nil
}

// lineParser returns the log-line parser, its clock pinned by --now.
func lineParser(now string) (*logline.Parser, error) {
	clock, err := clockFlag(now)
	if err != nil {
		return nil, err
	}
	if clock == nil {
		return logline.New(), nil
	}
	return logline.New(logline.WithClock(clock)), nil
}

// readSession validates every input (files, or standard input) in s, then
// runs the checks that need all of it.
func (m *Main) readSession(ctx context.Context, s *validate.Session, names []string) error {
	err := m.eachInput(names, func(name string, r io.Reader) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return s.Read(name, r)
	})
	if err != nil {
		return err
	}
	s.Finish()
	return nil
}
