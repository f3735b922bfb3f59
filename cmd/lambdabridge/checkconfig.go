package main

import (
	"context"
	"fmt"

	"github.com/lambdabridge/lambdabridge/config"
	"github.com/lambdabridge/lambdabridge/session"
)

// checkConfigCmd holds the argument of check-config.
type checkConfigCmd struct{ file string }

func registerCheckConfig(c *cli) {
	v := &checkConfigCmd{}
	cmd := c.command("check-config", "check a lambdabridge.yaml configuration file without running anything", checkConfigUsage, v.run)
	cmd.Arg("FILE", "the configuration file").Required().StringVar(&v.file)
}

const checkConfigUsage = `FILE

Reads the configuration file strictly (an unknown key is an error, with its
line), resolves its functions (handlers, SAM template) and builds its sinks
and mapping rules without binding any port or sending anything. Exit status 0
when it is valid, 2 otherwise.`

func (v *checkConfigCmd) run(ctx context.Context, m *Main) error {
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
