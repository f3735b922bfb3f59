package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/session"
)

// applyEnvVars applies --env-vars to defs: as sam for a template (only the
// variables the template declares), all of them for --handler.
func (f *funcFlags) applyEnvVars(defs []function.Definition, template bool) error {
	if f.envVars == "" {
		return nil
	}
	file, err := function.EnvVarsFile(f.envVars)
	if err != nil {
		return usageErrorf("--env-vars: %v", err)
	}
	for i := range defs {
		d := &defs[i]
		if template {
			d.ApplyEnvVars(file)
			continue
		}
		for _, scope := range []string{"Parameters", d.Name} {
			for k, v := range file[scope] {
				d.Env[k] = v
			}
		}
	}
	return nil
}

// printWarnings writes the functions' warnings (template keys and
// intrinsics not honoured, layers left out) on w.
func printWarnings(w io.Writer, defs []function.Definition) {
	for _, d := range defs {
		for _, msg := range d.Warnings {
			fmt.Fprintf(w, "lambdabridge: warning: function %s: %s\n", d.Name, msg)
		}
	}
}

// printExtensionNote says which functions have lambdabridge's extension in
// their layers: it is their metrics agent, as on Lambda.
func printExtensionNote(w io.Writer, s *session.Session) {
	for _, fn := range s.ExtensionFunctions() {
		fmt.Fprintf(w, "lambdabridge: function %s: its layers hold %s, its metrics agent as on Lambda: each environment's extension gets its own DogStatsD and EMF agent ports, and the datagrams read here are relayed to it; it delivers by its own configuration (LAMBDABRIDGE_*)\n", fn, session.ExtensionName)
	}
}

// warnLogger is the runner's logger for the commands: its warnings on w.
func warnLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
