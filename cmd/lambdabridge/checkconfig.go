package main

import (
	"context"
	"fmt"

	"github.com/lambdabridge/lambdabridge/config"
)

func init() {
	register(command{
		name:    "check-config",
		summary: "check a lambdabridge.yaml configuration file without running anything",
		run:     runCheckConfig,
	})
}

const checkConfigUsage = `FILE

Reads the configuration file strictly (an unknown key is an error, with its
line), resolves its functions (handlers, SAM template) and builds its sinks
and mapping rules without binding any port or sending anything. Exit status 0
when it is valid, 2 otherwise.`

func runCheckConfig(ctx context.Context, m *Main, args []string) error {
	fs := newFlagSet(m.Stderr, "check-config", checkConfigUsage)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("check-config: give one configuration file")
	}
	f, err := config.Load(fs.Arg(0))
	if err != nil {
		return usageErrorf("%v", err)
	}
	defs, err := f.Definitions()
	if err != nil {
		return usageErrorf("%s: %v", fs.Arg(0), err)
	}
	for _, d := range defs {
		if err := d.Validate(); err != nil {
			return usageErrorf("%s: function %s: %v", fs.Arg(0), d.Name, err)
		}
		for _, w := range d.Warnings {
			fmt.Fprintf(m.Stderr, "%s: function %s: warning: %s\n", fs.Arg(0), d.Name, w)
		}
	}
	// Build without binding: the scrape address is checked, not listened on.
	listen := ""
	if f.Scrape != nil {
		listen, f.Scrape = f.Scrape.Listen, nil
		if err := config.CheckListen(listen); err != nil {
			return usageErrorf("%s: %v", fs.Arg(0), err)
		}
	}
	b, err := f.Build(nil, version)
	if err != nil {
		return usageErrorf("%s: %v", fs.Arg(0), err)
	}
	b.Close()
	fmt.Fprintf(m.Stdout, "%s: valid: %d functions, %d remote_write, %d pushgateway",
		fs.Arg(0), len(defs), len(f.RemoteWrite), len(f.Pushgateway))
	if listen != "" {
		fmt.Fprintf(m.Stdout, ", /metrics on %s", listen)
	}
	fmt.Fprintln(m.Stdout)
	return nil
}
