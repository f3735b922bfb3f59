package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/alecthomas/kingpin/v2"

	"github.com/lambdabridge/lambdabridge/events"
	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/runner"
	"github.com/lambdabridge/lambdabridge/session"
)

// invokeCmd holds the flags of invoke.
type invokeCmd struct {
	fn       funcFlags
	event    eventFlags
	agents   agentFlags
	noFreeze bool
	region   string
}

func registerInvoke(c *cli) {
	v := &invokeCmd{}
	cmd := c.command("invoke", "run one invocation of a function locally, as Lambda would (like sam local invoke)", invokeUsage, v.run)
	v.fn.register(cmd)
	v.event.register(cmd)
	cmd.Flag("no-freeze", "do not freeze the environment (SIGSTOP) after the invocation").BoolVar(&v.noFreeze)
	regionFlag(cmd, "AWS_REGION given to the function").StringVar(&v.region)
	v.agents.register(cmd)
}

// regionFlag binds --region, the AWS_REGION the functions get.
func regionFlag(cmd *kingpin.CmdClause, help string) *kingpin.FlagClause {
	return cmd.Flag("region", help).Default("us-east-1")
}

const invokeUsage = `--handler PATH | --template FILE [--function NAME]  [--event FILE|- | --event-template NAME] [flags]

Runs one invocation: starts an execution environment of the function (a
custom-runtime bootstrap speaking the Lambda Runtime API, or with --exec a
plain script reading the event on stdin), sends it the event (default {}),
prints the response payload on standard output (for a function error
Lambda's {"errorMessage","errorType"}) and the function's logs with Lambda's
START/END/REPORT lines on standard error, then a summary of the metrics the
function wrote and the problems found in them.

Exit status: 0 on success, 1 when the function failed or timed out, 2 on
bad flags or input.`

// funcFlags are the flags that define the functions to run.
type funcFlags struct {
	handler, name, template, function string
	timeout, arch                     string
	memory                            int
	env, layers, params               []string
	exec, debug                       bool
	envVars                           string
	// region is the command's --region: AWS::Region in the template.
	region string
	// set records the flags given on the command line: they override the
	// template's values.
	set struct{ memory, timeout, arch, exec bool }
}

// register binds the function flags to cmd.
func (f *funcFlags) register(cmd *kingpin.CmdClause) {
	cmd.Flag("handler", "path of the bootstrap (or script, with --exec) that starts one environment").PlaceHolder("PATH").StringVar(&f.handler)
	cmd.Flag("name", "function name (default: from the handler path)").StringVar(&f.name)
	cmd.Flag("memory", "memory size in MB (Lambda: 128..10240); exceeding it ends the environment").Default(strconv.Itoa(function.DefaultMemoryMB)).IsSetByUser(&f.set.memory).IntVar(&f.memory)
	cmd.Flag("timeout", "invocation timeout: seconds as in SAM (3, 2.5) or a Go duration (1500ms)").Default("3").IsSetByUser(&f.set.timeout).StringVar(&f.timeout)
	cmd.Flag("env", "environment variable K=V for the function (repeatable)").PlaceHolder("K=V").StringsVar(&f.env)
	enum(cmd.Flag("architecture", "instruction set, for the cost estimate").IsSetByUser(&f.set.arch), &f.arch, function.DefaultArchitecture, "x86_64", "arm64")
	cmd.Flag("template", "SAM template file (template.yaml) defining the functions").PlaceHolder("FILE").StringVar(&f.template)
	cmd.Flag("function", "the template's function to invoke (its logical id)").PlaceHolder("NAME").StringVar(&f.function)
	cmd.Flag("parameter-overrides", "template parameter values, as sam: Key=Value, or ParameterKey=Key,ParameterValue=Value (repeatable; several separated by spaces)").PlaceHolder("KEY=VALUE").StringsVar(&f.params)
	cmd.Flag("env-vars", "sam's environment variables file: JSON {\"FunctionId\": {\"VAR\": \"value\"}, \"Parameters\": {...}}").PlaceHolder("FILE").StringVar(&f.envVars)
	cmd.Flag("debug", "no timeouts (init and invocation) and no freezing, for a debugger attached to the function (as sam with a debugger)").BoolVar(&f.debug)
	cmd.Flag("layer", "a layer's contents, a folder or a .zip file, seen by the function and its extensions at /opt (repeatable, later layers on top; after the template's)").PlaceHolder("DIR|ZIP").StringsVar(&f.layers)
	cmd.Flag("exec", "the handler is a plain script, not a Runtime API client: event on stdin, exit code 0 is success").IsSetByUser(&f.set.exec).BoolVar(&f.exec)
}

// definitions returns the functions the flags define, and the one to
// invoke (the only one, or --function).
func (f *funcFlags) definitions() ([]function.Definition, string, error) {
	if err := f.check(); err != nil {
		return nil, "", err
	}
	timeout, err := function.ParseTimeout(f.timeout)
	if err != nil {
		return nil, "", usageErrorf("--timeout: %v", err)
	}
	env := map[string]string{}
	for _, kv := range f.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, "", usageErrorf("--env %q: want K=V", kv)
		}
		env[k] = v
	}
	switch {
	case f.handler != "" && f.template != "":
		return nil, "", usageErrorf("give --handler or --template, not both")
	case f.handler != "":
		opts := []function.Option{function.WithMemoryMB(f.memory), function.WithTimeout(timeout),
			function.WithArchitecture(f.arch), function.WithEnv(env), function.WithExec(f.exec), function.WithLayers(f.layers...)}
		if f.name != "" {
			opts = append(opts, function.WithName(f.name))
		}
		d, err := function.FromHandler(f.handler, opts...)
		if err != nil {
			return nil, "", usageErrorf("%v", err)
		}
		if err := f.applyEnvVars([]function.Definition{d}, false); err != nil {
			return nil, "", err
		}
		return []function.Definition{d}, d.Name, nil
	case f.template != "":
		params, err := function.ParseParameterOverrides(f.params)
		if err != nil {
			return nil, "", usageErrorf("--parameter-overrides: %v", err)
		}
		if f.region != "" {
			params["AWS::Region"] = f.region
		}
		defs, err := function.FromTemplateParams(f.template, params)
		if err != nil {
			return nil, "", usageErrorf("%v", err)
		}
		if err := f.applyEnvVars(defs, true); err != nil {
			return nil, "", err
		}
		var layers []string
		for _, l := range f.layers {
			dir, err := function.LayerDir(l)
			if err != nil {
				return nil, "", usageErrorf("--layer: %v", err)
			}
			layers = append(layers, dir)
		}
		var ok []function.Definition
		var problems []string
		for _, d := range defs {
			d.Layers = append(d.Layers, layers...)
			if f.set.memory {
				d.MemoryMB = f.memory
			}
			if f.set.timeout {
				d.Timeout = timeout
			}
			if f.set.arch {
				d.Architecture = f.arch
			}
			if f.set.exec {
				d.Exec = f.exec
			}
			for k, v := range env {
				if d.Env == nil {
					d.Env = map[string]string{}
				}
				d.Env[k] = v
			}
			if err := d.Validate(); err != nil {
				if f.function == d.Name {
					return nil, "", usageErrorf("%v", err)
				}
				problems = append(problems, err.Error())
				continue
			}
			ok = append(ok, d)
		}
		target := f.function
		if target == "" {
			if len(ok) != 1 {
				if len(ok) == 0 {
					return nil, "", usageErrorf("%s: no function can run here: %s", f.template, strings.Join(problems, "; "))
				}
				return ok, "", nil
			}
			target = ok[0].Name
		}
		found := false
		for _, d := range ok {
			found = found || d.Name == target
		}
		if !found {
			return nil, "", usageErrorf("%s: no function %q", f.template, target)
		}
		return ok, target, nil
	}
	return nil, "", usageErrorf("give --handler PATH or --template FILE")
}

// warnDefinitions prints the warnings found while reading the functions
// that will run (a CodeUri leading outside the template's folder...).
func warnDefinitions(m *Main, defs []function.Definition) {
	for _, d := range defs {
		for _, w := range d.Warnings {
			fmt.Fprintf(m.Stderr, "lambdabridge: warning: function %s: %s\n", d.Name, w)
		}
	}
}

// eventFlags are --event and --event-template.
type eventFlags struct{ event, template string }

// register binds the event flags to cmd.
func (e *eventFlags) register(cmd *kingpin.CmdClause) {
	stdinFlag(cmd.Flag("event", "event file (one JSON document), - for standard input").PlaceHolder("FILE"), &e.event)
	cmd.Flag("event-template", "built-in sample event: "+strings.Join(events.Names(), ", ")+" (or an alias, such as http-api)").PlaceHolder("NAME").StringVar(&e.template)
}

// eventsFileFlag binds --events, a file of events (run, compare).
func eventsFileFlag(cmd *kingpin.CmdClause, target *string) {
	stdinFlag(cmd.Flag("events", "file of events, JSON lines (one event per line), - for standard input").PlaceHolder("FILE"), target)
}

// payload returns the event the flags name, or nil when none.
func (e *eventFlags) payload(stdin io.Reader) ([]byte, error) {
	switch {
	case e.event != "" && e.template != "":
		return nil, usageErrorf("give --event or --event-template, not both")
	case e.template != "":
		b, err := events.Get(e.template)
		if err != nil {
			return nil, usageErrorf("--event-template: %v", err)
		}
		return b, nil
	case e.event == "-":
		b, err := events.ReadOne(stdin)
		if err != nil {
			return nil, usageErrorf("--event -: %v", err)
		}
		return b, nil
	case e.event != "":
		fh, err := os.Open(e.event)
		if err != nil {
			return nil, usageErrorf("--event: %v", err)
		}
		defer fh.Close()
		b, err := events.ReadOne(fh)
		if err != nil {
			return nil, usageErrorf("--event %s: %v", e.event, err)
		}
		return b, nil
	}
	return nil, nil
}

// found counts the metrics and problems the function's output held.
type found struct {
	families map[string]*familyCount
	platform int
	diags    []string
	errors   int
	warnings int
}

type familyCount struct {
	format, typ string
	points      int
}

func newFound() *found { return &found{families: map[string]*familyCount{}} }

func (f *found) point(p *metric.Point) {
	if p.Format == metric.FormatPlatform {
		f.platform++
		return
	}
	fam := metric.Translate(p)
	c := f.families[fam.Name]
	if c == nil {
		c = &familyCount{format: p.Format.String(), typ: fam.Type.String()}
		f.families[fam.Name] = c
	}
	c.points++
}

func (f *found) diag(d *metric.Diagnostic) {
	switch d.Severity {
	case metric.Error:
		f.errors++
	case metric.Warning:
		f.warnings++
	}
	if len(f.diags) < 50 {
		f.diags = append(f.diags, d.String())
	}
}

func (f *found) write(w io.Writer) {
	byFormat := map[string]int{}
	points := 0
	names := make([]string, 0, len(f.families))
	for n, c := range f.families {
		names = append(names, n)
		byFormat[c.format] += c.points
		points += c.points
	}
	sort.Strings(names)
	var parts []string
	for _, fm := range []string{"emf", "monitoring", "datadog-json", "dogstatsd"} {
		if n := byFormat[fm]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", fm, n))
		}
	}
	fmt.Fprintf(w, "metrics: %d points in %d families", points, len(names))
	if len(parts) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, ", %d platform points\n", f.platform)
	for _, n := range names {
		c := f.families[n]
		fmt.Fprintf(w, "  %-50s %-9s %-12s %d\n", n, c.typ, c.format, c.points)
	}
	if f.errors+f.warnings > 0 {
		fmt.Fprintf(w, "problems: %d errors, %d warnings\n", f.errors, f.warnings)
		for _, d := range f.diags {
			fmt.Fprintln(w, "  "+d)
		}
	}
}

// console shows the functions' lines on standard error (while showLogs
// says so) and counts the metrics and problems found in them.
func console(m *Main, showLogs func() bool) ([]session.Option, *found) {
	fd := newFound()
	c := runner.NewConsole(m.Stderr)
	return []session.Option{
		session.WithLineHandler(func(o metric.Origin, stream string, line []byte, _ metric.Format) {
			if showLogs() {
				c.Line(o, stream, line)
			}
		}),
		session.WithPointHandler(fd.point),
		session.WithDiagnosticHandler(fd.diag),
	}, fd
}

func (v *invokeCmd) run(ctx context.Context, m *Main) error {
	v.fn.region = v.region
	defs, target, err := v.fn.definitions()
	if err != nil {
		return err
	}
	if target == "" {
		names := make([]string, len(defs))
		for i, d := range defs {
			names[i] = d.Name
		}
		return usageErrorf("invoke: the template defines several functions, pick one with --function (%s)", strings.Join(names, ", "))
	}
	for _, d := range defs {
		if d.Name == target {
			defs = []function.Definition{d}
			break
		}
	}
	warnDefinitions(m, defs)
	payload, err := v.event.payload(m.Stdin)
	if err != nil {
		return err
	}
	if payload == nil {
		payload = []byte("{}")
	}
	opts, fd := console(m, func() bool { return true })
	s, err := session.New(nil, append(opts, session.WithAgents(v.agents.session()), session.WithFunction(target))...)
	if err != nil {
		return usageErrorf("%v", err)
	}
	printWarnings(m.Stderr, defs)
	defs = s.Apply(defs)
	printExtensionNote(m.Stderr, s)
	r, err := runner.New(defs, runner.WithLogSink(s.Pipeline()), runner.WithPlatformSink(s.Pipeline()),
		runner.WithFreeze(!v.noFreeze && !v.fn.debug), runner.WithRegion(v.region), runner.WithDebug(v.fn.debug), runner.WithLogger(warnLogger(m.Stderr)),
		runner.WithLifecycle(s.Lifecycle), runner.WithEnvironmentVars(s.EnvironmentVars))
	if err != nil {
		s.Shutdown()
		return err
	}
	s.AddSource(r)
	s.Start(ctx)
	cut, stopCut := secondSignal(ctx) // a second Ctrl-C ends the invocation at once
	defer stopCut()
	stopOn := s.ShutdownOn(ctx, cut) // the first one gives it the drain deadline
	res, err := r.Invoke(ctx, target, runner.Request{Payload: payload})
	stopOn()
	s.ShutdownWithin(cut)
	if err != nil {
		return fmt.Errorf("invoke: %w", err)
	}
	out := res.Payload
	if !bytes.HasSuffix(out, []byte("\n")) {
		out = append(out, '\n')
	}
	m.Stdout.Write(out)
	fd.write(m.Stderr)
	if res.Failed() {
		what := "function error"
		if res.TimedOut {
			what = "timed out"
		}
		return &failure{msg: fmt.Sprintf("invoke: %s (%s)", what, res.ErrorType)}
	}
	return nil
}
