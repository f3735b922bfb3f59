package main

import (
	"context"
	"fmt"
	"os"

	"github.com/lambdabridge/lambdabridge/config"
	"github.com/lambdabridge/lambdabridge/extension"
	"github.com/lambdabridge/lambdabridge/session"
)

// checkConfigCmd holds the argument of check-config.
type checkConfigCmd struct {
	file      string
	extension bool
}

func registerCheckConfig(c *cli) {
	v := &checkConfigCmd{}
	cmd := c.command("check-config", "check a lambdabridge.yaml configuration file without running anything", checkConfigUsage, v.run)
	cmd.Arg("FILE", "the configuration file (optional with --extension)").StringVar(&v.file)
	cmd.Flag("extension", "check FILE and the LAMBDABRIDGE_* variables as the Lambda extension reads them").BoolVar(&v.extension)
}

const checkConfigUsage = `FILE | --extension [FILE]

Reads the configuration file strictly (an unknown key is an error, with its
line), resolves its functions (handlers, SAM template) and builds its sinks
and mapping rules without binding any port or sending anything. Exit status 0
when it is valid, 2 otherwise. With --extension, FILE (if given) is the
layer's configuration and the LAMBDABRIDGE_* variables of this environment
are read as the extension reads them (see 'lambdabridge layer build').`

func (v *checkConfigCmd) run(ctx context.Context, m *Main) error {
	if v.extension {
		return v.runExtension(m)
	}
	if v.file == "" {
		return usageErrorf("check-config: required argument 'FILE' not provided")
	}
	f, err := config.Load(v.file)
	if err != nil {
		return usageErrorf("%v", err)
	}
	defs, err := f.Definitions()
	if err != nil {
		return usageErrorf("%s: %v", v.file, err)
	}
	for _, d := range defs {
		if err := d.Validate(); err != nil {
			return usageErrorf("%s: function %s: %v", v.file, d.Name, err)
		}
		for _, w := range d.Warnings {
			fmt.Fprintf(m.Stderr, "%s: function %s: warning: %s\n", v.file, d.Name, w)
		}
	}
	// What a session would build, without binding or sending.
	if err := session.Check(f); err != nil {
		return usageErrorf("%s: %v", v.file, err)
	}
	listen := ""
	if f.Scrape != nil {
		listen = f.Scrape.Listen
	}
	fmt.Fprintf(m.Stdout, "%s: valid: %d functions, %d remote_write, %d pushgateway",
		v.file, len(defs), len(f.RemoteWrite), len(f.Pushgateway))
	if listen != "" {
		fmt.Fprintf(m.Stdout, ", /metrics on %s", listen)
	}
	fmt.Fprintln(m.Stdout)
	return nil
}

// runExtension checks the extension's configuration (extension.Check).
func (v *checkConfigCmd) runExtension(m *Main) error {
	cfg, err := extension.Check(v.file, os.Getenv)
	if err != nil {
		return usageErrorf("check-config --extension: %v", err)
	}
	fmt.Fprintf(m.Stdout, "extension configuration valid: %s\n", cfg.Describe())
	return nil
}
