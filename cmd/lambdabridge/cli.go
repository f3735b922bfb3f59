package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/alecthomas/kingpin/v2"
)

// commandFunc runs a parsed command.
type commandFunc func(ctx context.Context, m *Main) error

// cli is the command line: the kingpin application every command file
// registers into, and what each command runs.
type cli struct {
	app  *kingpin.Application
	runs map[string]commandFunc
	// kingpin's own error output (help on an unknown command), turned into
	// the one line Exit prints.
	errs bytes.Buffer
}

// registrations lists every command; each lives in its own file.
var registrations = []func(*cli){
	registerValidate, registerConvert, registerInvoke, registerRun, registerTail,
	registerCheckConfig, registerCompare, registerDashboard, registerVersion, registerLayer,
}

const appHelp = `Lambda function metrics, locally, into Prometheus and Grafana.

Run 'lambdabridge help COMMAND' (or 'lambdabridge COMMAND --help') for the
flags of one command. Flags may come before or after the file arguments.

` + exitTable

func init() {
	// "@file" arguments are file names here, never files of arguments.
	kingpin.EnableFileExpansion = false
}

// newCLI builds the command line, writing help to m.Stdout.
func newCLI(m *Main) *cli {
	c := &cli{runs: map[string]commandFunc{}}
	app := kingpin.New("lambdabridge", appHelp).
		UsageWriter(m.Stdout).ErrorWriter(&c.errs).
		UsageTemplate(usageTemplate).
		Terminate(func(code int) { panic(terminated(code)) })
	app.HelpFlag.Short('h').Help("Show help (for a command: lambdabridge COMMAND --help).")
	app.Version("lambdabridge " + version)
	c.app = app
	for _, register := range registrations {
		register(c)
	}
	return c
}

// command adds a command: summary is its line in the command list, usage
// its synopsis and long description (the first line is the synopsis).
func (c *cli) command(name, summary, usage string, run commandFunc) *kingpin.CmdClause {
	c.runs[name] = run
	return c.app.Command(name, summary).HelpLong(usage)
}

// terminated is how kingpin's help and --version end a parse (kingpin calls
// Terminate; parse recovers it).
type terminated int

// parse parses args; it returns the command to run, or nil when help or the
// version was printed.
func (c *cli) parse(args []string) (run commandFunc, err error) {
	if len(args) == 0 {
		ctx, err := c.app.ParseContext(nil)
		if err != nil {
			return nil, err
		}
		if err := c.app.UsageForContext(ctx); err != nil {
			return nil, err
		}
		return nil, usageErrorf("no command given")
	}
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		code, ok := r.(terminated)
		if !ok {
			panic(r)
		}
		run = nil
		if code != 0 {
			msg := strings.TrimPrefix(strings.TrimSpace(c.errs.String()), "lambdabridge: error: ")
			err = c.explain(args, errors.New(msg))
		}
	}()
	args = c.normalize(args)
	name, err := c.app.Parse(args)
	if err != nil {
		return nil, c.explain(args, err)
	}
	return c.runs[name], nil
}

// flagIndex maps long flag names (of every command) to whether the flag is
// a boolean in every command that has it, and lists the short flags.
func (c *cli) flagIndex() (long map[string]bool, short map[string]bool) {
	long, short = map[string]bool{}, map[string]bool{}
	add := func(g *kingpin.FlagGroupModel) {
		for _, f := range g.Flags {
			isBool, seen := long[f.Name]
			long[f.Name] = f.IsBoolFlag() && (isBool || !seen)
			if f.Short != 0 {
				short[string(f.Short)] = true
			}
		}
	}
	mod := c.app.Model()
	add(mod.FlagGroupModel)
	for _, cmd := range mod.Commands {
		add(cmd.FlagGroupModel)
	}
	return long, short
}

// negativeRE is a negative number given as a flag's value (--memory -5).
var negativeRE = regexp.MustCompile(`^-[0-9.]`)

// joinNegative writes a value flag followed by a negative number as
// --flag=-5, so the number is the flag's value (kingpin reads it as short
// flags) and the flag's check can name the rule.
func joinNegative(args []string, long map[string]bool) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		name := strings.TrimLeft(a, "-")
		if isBool, ok := long[name]; ok && !isBool && strings.HasPrefix(a, "-") && i+1 < len(args) && negativeRE.MatchString(args[i+1]) {
			out = append(out, a+"="+args[i+1])
			i++
			continue
		}
		out = append(out, a)
	}
	return out
}

// normalize keeps what the std flag package accepted working: single-dash
// long flags (-format json), --v for -v, and --bool=false; a value flag
// followed by a negative number takes it as its value.
func (c *cli) normalize(args []string) []string {
	long, short := c.flagIndex()
	args = joinNegative(args, long)
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			out = append(out, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		isBool, isLong := long[name]
		switch {
		case len(name) == 1 && short[name] && strings.HasPrefix(a, "--"):
			out = append(out, "-"+name)
			if hasValue {
				out = append(out, value)
			}
			continue
		case !isLong || len(name) == 1:
			out = append(out, a)
			continue
		}
		if b, err := strconv.ParseBool(value); isBool && hasValue && err == nil {
			if b {
				out = append(out, "--"+name)
			} else {
				out = append(out, "--no-"+name)
			}
			continue
		}
		out = append(out, "--"+strings.TrimLeft(a, "-"))
	}
	return out
}

var (
	unknownFlagRE    = regexp.MustCompile(`^unknown (?:long|short) flag '(-[^']*)'$`)
	unknownCommandRE = regexp.MustCompile(`^expected command but got "(.*)"$`)
	unexpectedRE     = regexp.MustCompile(`^unexpected (?:argument )?'?(.*?)'?$`)
	enumRE           = regexp.MustCompile(`^enum value must be one of (.*), got '(.*)'$`)
)

// explain turns a kingpin error into one line, with a suggestion for an
// unknown flag or command.
func (c *cli) explain(args []string, err error) error {
	msg := err.Error()
	if m := unknownFlagRE.FindStringSubmatch(msg); m != nil {
		return usageErrorf("unknown flag %s%s", m[1], suggest(strings.TrimLeft(m[1], "-"), c.flagNames(args), "--"))
	}
	if m := unknownCommandRE.FindStringSubmatch(msg); m != nil {
		var names []string
		for _, cmd := range c.app.Model().Commands {
			names = append(names, cmd.Name)
		}
		s := suggest(m[1], names, "")
		if s == "" {
			s = " (run 'lambdabridge help')"
		}
		return usageErrorf("unknown command %q%s", m[1], s)
	}
	if m := unexpectedRE.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("unexpected argument %q", m[1])
	}
	ctx, _ := c.app.ParseContext(args)
	if m := enumRE.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("%s %q: want one of %s", enumFlag(ctx, m[2]), m[2], strings.ReplaceAll(m[1], ",", ", "))
	}
	if ctx != nil && ctx.SelectedCommand != nil {
		return usageErrorf("%s: %s", ctx.SelectedCommand.FullCommand(), msg)
	}
	return usageErrorf("%s", msg)
}

// enumFlag names the flag given value in ctx (kingpin's enum error does
// not say which flag it is about).
func enumFlag(ctx *kingpin.ParseContext, value string) string {
	if ctx != nil {
		for _, e := range ctx.Elements {
			if f, ok := e.Clause.(*kingpin.FlagClause); ok && e.Value != nil && *e.Value == value {
				return "--" + f.Model().Name
			}
		}
	}
	return "a flag"
}

// flagNames lists the long flags of the command args select (and the
// application's), for suggestions.
func (c *cli) flagNames(args []string) []string {
	var names []string
	add := func(g *kingpin.FlagGroupModel) {
		for _, f := range g.Flags {
			if !f.Hidden {
				names = append(names, f.Name)
			}
		}
	}
	add(c.app.Model().FlagGroupModel)
	if ctx, _ := c.app.ParseContext(args); ctx != nil && ctx.SelectedCommand != nil {
		add(ctx.SelectedCommand.Model().FlagGroupModel)
	}
	return names
}

// suggest returns ", did you mean PREFIX+NAME?" for the candidate closest to
// got, when it is close enough to be a likely typo; "" otherwise.
func suggest(got string, candidates []string, prefix string) string {
	best, bestD := "", 0
	for _, c := range candidates {
		d := levenshtein(got, c)
		if strings.HasPrefix(c, got) || strings.HasPrefix(got, c) {
			d = min(d, 1+abs(len(c)-len(got))/4)
		}
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(got)/4) {
		return ""
	}
	return fmt.Sprintf(", did you mean %s%s?", prefix, best)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// levenshtein is the edit distance between a and b.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// enum binds a flag that takes one of values, checked by the parser and
// listed in its help.
func enum(f *kingpin.FlagClause, target *string, def string, values ...string) {
	f.Help(f.Model().Help+" (one of: "+strings.Join(values, ", ")+")").Default(def).EnumVar(target, values...)
}

// stdinFlag binds a string flag where "-" means standard input (kingpin
// hands a lone "-" over as an empty value).
func stdinFlag(f *kingpin.FlagClause, target *string) {
	f.Action(func(*kingpin.ParseContext) error {
		if *target == "" {
			*target = "-"
		}
		return nil
	}).StringVar(target)
}

// filesArg binds the FILE... arguments, where "-" is standard input.
func filesArg(cmd *kingpin.CmdClause, help string, target *[]string) {
	cmd.Arg("FILE", help).Action(func(*kingpin.ParseContext) error {
		for i, name := range *target {
			if name == "" {
				(*target)[i] = "-"
			}
		}
		return nil
	}).StringsVar(target)
}

// usageTemplate is kingpin's default usage with each command's synopsis and
// long description printed as written (not re-wrapped).
const usageTemplate = `{{if .Context.SelectedCommand -}}
usage: {{.App.Name}} {{.Context.SelectedCommand}} {{.Context.SelectedCommand.HelpLong}}

{{.Context.SelectedCommand.Help}}.
{{else -}}
usage: {{.App.Name}} [<flags>] <command> [<args> ...]

{{.App.Help}}
{{end}}
{{if .Context.Flags -}}
Flags:
{{.Context.Flags|FlagsToTwoColumns|FormatTwoColumns}}
{{end -}}
{{if not .Context.SelectedCommand -}}
Commands:
{{range .App.Commands}}{{if not .Hidden}}  {{printf "%-14s" .Name}} {{.Help}}
{{end}}{{end -}}
{{end -}}
`

// version is the module version from the build information: a release
// tag, a pseudo-version, or "(devel)", with the VCS revision when known.
var version = buildVersion()

func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	return formatVersion(bi)
}

// formatVersion is the main module's version, with the VCS revision when
// the version does not already name it.
func formatVersion(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	rev, dirty := "", ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ", modified"
			}
		}
	}
	if rev != "" && !strings.Contains(v, rev[:min(12, len(rev))]) {
		v += " (revision " + rev + dirty + ")"
	}
	return v
}

// registerVersion adds the version command (--version does the same).
func registerVersion(c *cli) {
	c.command("version", "print the version of lambdabridge", "\n\nPrints the module version from the build information.",
		func(_ context.Context, m *Main) error {
			_, err := fmt.Fprintln(m.Stdout, "lambdabridge", version)
			return err
		})
}
