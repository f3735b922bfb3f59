package function

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// FromTemplate reads a SAM template (YAML or JSON) and returns every
// AWS::Serverless::Function in document order, with Globals.Function applied,
// CodeUri resolved against the template's directory and the command for its
// runtime (see RuntimeCommand).
//
// CloudFormation intrinsics, long (Ref, Fn::Sub) or short (!Ref, !Sub,
// !GetAtt, !Join, !Select ...), never make parsing fail: Ref and Sub of
// Parameters with a Default and of pseudo parameters (AWS::Region is
// us-east-1) are resolved; anything else keeps its literal text and adds a
// warning to the function's Warnings.
//
// The error is for the template as a whole (unreadable, not YAML, no
// functions). A function that cannot run here (runtime client missing,
// S3 CodeUri, bad MemorySize) is still returned: call Validate on the
// functions you run.
func FromTemplate(path string) ([]Definition, error) {
	return FromTemplateParams(path, nil)
}

// FromTemplateParams is FromTemplate with parameter values that override the
// Parameters' defaults, like sam's --parameter-overrides.
func FromTemplateParams(path string, params map[string]string) ([]Definition, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	defs, err := parseTemplate(data, dir, params)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	return defs, nil
}

// pseudo holds the values of the pseudo parameters a local run uses.
var pseudo = map[string]string{
	"AWS::Region":    "us-east-1",
	"AWS::AccountId": "123456789012",
	"AWS::StackName": "lambdabridge",
	"AWS::StackId":   "arn:aws:cloudformation:us-east-1:123456789012:stack/lambdabridge/00000000-0000-0000-0000-000000000000",
	"AWS::Partition": "aws",
	"AWS::URLSuffix": "amazonaws.com",
}

func parseTemplate(data []byte, dir string, overrides map[string]string) ([]Definition, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	root := deref(&doc)
	if root == nil || root.Kind != yaml.MappingNode {
		return nil, errors.New("not a template: the document is not a mapping")
	}
	r := &resolver{params: map[string]string{}, resources: map[string]bool{}}
	if ps := get(root, "Parameters"); ps != nil && ps.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(ps.Content); i += 2 {
			name := ps.Content[i].Value
			if def := get(deref(ps.Content[i+1]), "Default"); def != nil {
				var w []string
				if v, ok := r.str(def, &w); ok {
					r.params[name] = v
				}
			}
		}
	}
	for k, v := range overrides {
		r.params[k] = v
	}
	var condWarns []string
	r.conditions(root, &condWarns)
	res := get(root, "Resources")
	if res == nil || res.Kind != yaml.MappingNode {
		return nil, errors.New("no Resources")
	}
	r.layerRes = map[string]*yaml.Node{}
	for i := 0; i+1 < len(res.Content); i += 2 {
		r.resources[res.Content[i].Value] = true
		switch t := get(res.Content[i+1], "Type"); {
		case t != nil && (t.Value == "AWS::Serverless::LayerVersion" || t.Value == "AWS::Lambda::LayerVersion"):
			r.layerRes[res.Content[i].Value] = deref(res.Content[i+1])
		}
	}
	var globals *yaml.Node
	if g := get(root, "Globals"); g != nil {
		globals = get(g, "Function")
	}
	var defs []Definition
	for i := 0; i+1 < len(res.Content); i += 2 {
		id, body := res.Content[i].Value, deref(res.Content[i+1])
		if t := get(body, "Type"); t == nil || t.Value != "AWS::Serverless::Function" {
			continue
		}
		if c := get(body, "Condition"); c != nil && !r.condition(c.Value, &condWarns, 0) {
			continue // its Condition is false: the function does not exist
		}
		d := r.function(id, get(body, "Properties"), globals, dir)
		d.Warnings = append(append(slices.Clone(condWarns), d.Warnings...), unhonoured(get(body, "Properties"), "")...)
		d.Warnings = append(d.Warnings, unhonoured(globals, "Globals.Function.")...)
		defs = append(defs, d)
	}
	if len(defs) == 0 {
		return nil, errors.New("no AWS::Serverless::Function resources")
	}
	return defs, nil
}

// function builds the definition of the function with logical id id.
func (r *resolver) function(id string, props, globals *yaml.Node, dir string) Definition {
	d := Definition{
		Name:         id,
		MemoryMB:     DefaultMemoryMB,
		Timeout:      DefaultTimeout,
		Architecture: DefaultArchitecture,
		Env:          map[string]string{},
	}
	var problems []error
	w := &d.Warnings
	// prop returns the function's property, else the global one.
	prop := func(key string) *yaml.Node {
		if n := get(props, key); n != nil {
			return n
		}
		return get(globals, key)
	}
	str := func(key string) (string, bool) {
		n := prop(key)
		if n == nil {
			return "", false
		}
		return r.str(n, w)
	}
	d.Handler, _ = str("Handler")
	d.Runtime, _ = str("Runtime")
	if v, ok := str("MemorySize"); ok {
		mb, err := strconv.Atoi(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("MemorySize %q: not an integer", v))
		} else {
			d.MemoryMB = mb
		}
	}
	if v, ok := str("Timeout"); ok {
		t, err := ParseTimeout(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("property Timeout: %w", err))
		} else {
			d.Timeout = t
		}
	}
	if n := prop("Architectures"); n != nil {
		if n = deref(n); n.Kind == yaml.SequenceNode && len(n.Content) > 0 {
			if v, ok := r.str(n.Content[0], w); ok {
				d.Architecture = v
			}
		}
	}
	for _, src := range []*yaml.Node{globals, props} {
		vars := get(get(get(src, "Environment"), "Variables"), "")
		if vars == nil || vars.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(vars.Content); i += 2 {
			if v, ok := r.str(vars.Content[i+1], w); ok {
				d.Env[vars.Content[i].Value] = v
			} else {
				delete(d.Env, vars.Content[i].Value) // AWS::NoValue
			}
		}
	}
	d.Layers = r.layers(prop("Layers"), dir, w)
	if ec := prop("EventInvokeConfig"); ec != nil {
		d.EventInvoke, problems = r.eventInvoke(ec, w, problems)
	}
	if lc := prop("LoggingConfig"); lc != nil {
		field := func(k string) string {
			if n := get(lc, k); n != nil {
				v, _ := r.str(n, w)
				return v
			}
			return ""
		}
		d.Logging = Logging{Format: field("LogFormat"), ApplicationLevel: field("ApplicationLogLevel"), SystemLevel: field("SystemLogLevel"), LogGroup: field("LogGroup")}
		problems = append(problems, d.Logging.check()...)
		if !d.Logging.JSON() && (d.Logging.ApplicationLevel != "" || d.Logging.SystemLevel != "") {
			*w = append(*w, fmt.Sprintf("line %d: LoggingConfig levels apply only with LogFormat: JSON (as on Lambda); they are ignored", lc.Line))
		}
	}

	// The code.
	if pt, _ := str("PackageType"); pt == "Image" {
		problems = append(problems, fmt.Errorf("%w: PackageType Image is not supported; use a zip function with CodeUri pointing at a directory", ErrRuntimeUnavailable))
	} else if n := prop("InlineCode"); n != nil {
		problems = append(problems, fmt.Errorf("%w: InlineCode is not supported; put the code in a directory and point CodeUri at it", ErrRuntimeUnavailable))
	}
	codeURI, codeLine := ".", 0
	if n := prop("CodeUri"); n != nil {
		if n = deref(n); n.Kind == yaml.MappingNode && get(n, "Bucket") != nil {
			problems = append(problems, fmt.Errorf("%w: CodeUri points to S3; point it at the local code directory", ErrRuntimeUnavailable))
		} else if v, ok := r.str(n, w); ok && v != "" {
			codeURI, codeLine = v, n.Line
		}
	}
	switch {
	case strings.HasPrefix(codeURI, "s3://"):
		problems = append(problems, fmt.Errorf("%w: CodeUri %s is in S3; point it at the local code directory", ErrRuntimeUnavailable, codeURI))
	case strings.HasSuffix(codeURI, ".jar"):
		problems = append(problems, fmt.Errorf("%w: CodeUri %s is a jar; Java runtimes do not run locally", ErrRuntimeUnavailable, codeURI))
	}
	if filepath.IsAbs(codeURI) {
		d.CodeDir = filepath.Clean(codeURI)
	} else {
		d.CodeDir = filepath.Join(dir, codeURI)
	}
	if strings.HasSuffix(strings.ToLower(d.CodeDir), ".zip") && len(problems) == 0 {
		if unpacked, err := unzipCached(d.CodeDir); err != nil {
			problems = append(problems, fmt.Errorf("%w: CodeUri %s: %w", ErrRuntimeUnavailable, codeURI, err))
		} else {
			d.CodeDir = unpacked // read-only use: the cache is shared
		}
	}
	if to, out := outside(dir, d.CodeDir); out && len(problems) == 0 && !strings.HasSuffix(strings.ToLower(codeURI), ".zip") {
		*w = append(*w, fmt.Sprintf("line %d: CodeUri %q leads outside the template's folder %s (to %s); check that this is the code you mean to run", codeLine, codeURI, dir, to))
	}
	// A provided runtime with no bootstrap in CodeUri but a `sam build` output.
	if strings.HasPrefix(d.Runtime, "provided") {
		built := filepath.Join(dir, ".aws-sam", "build", id)
		if !exists(filepath.Join(d.CodeDir, "bootstrap")) && exists(filepath.Join(built, "bootstrap")) {
			*w = append(*w, "no bootstrap in "+d.CodeDir+"; using the sam build output in "+built)
			d.CodeDir = built
		}
	}
	if len(problems) == 0 {
		cmd, err := RuntimeCommand(d.Runtime, d.Handler, d.CodeDir)
		if err != nil {
			problems = append(problems, err)
		}
		d.Command = cmd
	}
	if len(problems) > 0 {
		d.cmdErr = errors.Join(problems...)
		d.Command = nil
	}
	return d
}

// outside reports whether path (absolute, clean) is outside dir, following
// symbolic links where they exist, and where it leads.
func outside(dir, path string) (string, bool) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return path, true
	}
	return path, rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// resolver evaluates the CloudFormation intrinsics it can evaluate locally.
type resolver struct {
	params    map[string]string     // parameter values (Default or overrides)
	resources map[string]bool       // logical ids
	layerRes  map[string]*yaml.Node // layer resources by logical id
	conds     map[string]bool       // evaluated Conditions
	condNodes map[string]*yaml.Node // the Conditions section
}

// deref follows documents and aliases.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch n.Kind {
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		case yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
	return nil
}

// get returns the value of key in mapping m (nil when absent); an empty key
// returns m itself.
func get(m *yaml.Node, key string) *yaml.Node {
	m = deref(m)
	if m == nil || key == "" {
		return m
	}
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return deref(m.Content[i+1])
		}
	}
	return nil
}

// intrinsic reports whether n is an intrinsic function call, short
// (!Sub x) or long ({"Fn::Sub": x}), and returns its name ("Ref", "Sub",
// "GetAtt" ...) and argument.
func intrinsic(n *yaml.Node) (name string, arg *yaml.Node, ok bool) {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		a := *n
		a.Tag = ""
		a.Style &^= yaml.TaggedStyle
		return strings.TrimPrefix(n.Tag, "!"), &a, true
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		k := n.Content[0].Value
		if k == "Ref" || k == "Condition" {
			return k, deref(n.Content[1]), true
		}
		if strings.HasPrefix(k, "Fn::") {
			return strings.TrimPrefix(k, "Fn::"), deref(n.Content[1]), true
		}
	}
	return "", nil, false
}

// str evaluates n to a string. ok is false for AWS::NoValue. What cannot be
// evaluated keeps its literal text, with a warning appended to warns.
func (r *resolver) str(n *yaml.Node, warns *[]string) (string, bool) {
	n = deref(n)
	if n == nil {
		return "", true
	}
	if name, arg, ok := intrinsic(n); ok {
		return r.call(name, arg, warns)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "", true
		}
		return n.Value, true
	default:
		*warns = append(*warns, fmt.Sprintf("line %d: a %s where a value was expected; kept empty", n.Line, kindName(n.Kind)))
		return "", true
	}
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "node"
}

func (r *resolver) call(name string, arg *yaml.Node, warns *[]string) (string, bool) {
	warn := func(format string, a ...any) {
		*warns = append(*warns, fmt.Sprintf("line %d: ", arg.Line)+fmt.Sprintf(format, a...))
	}
	switch name {
	case "Ref":
		ref, _ := r.str(arg, warns)
		if ref == "AWS::NoValue" {
			return "", false
		}
		if v, ok := r.ref(ref); ok {
			return v, true
		}
		if r.resources[ref] {
			warn("!Ref %s names a resource, which does not exist locally; kept as %q", ref, ref)
		} else {
			warn("!Ref %s: no parameter with a Default by that name; kept as %q", ref, ref)
		}
		return ref, true
	case "Sub":
		tmpl, vars := arg, map[string]string{}
		if arg.Kind == yaml.SequenceNode && len(arg.Content) > 0 {
			tmpl = deref(arg.Content[0])
			if len(arg.Content) > 1 {
				if m := deref(arg.Content[1]); m.Kind == yaml.MappingNode {
					for i := 0; i+1 < len(m.Content); i += 2 {
						vars[m.Content[i].Value], _ = r.str(m.Content[i+1], warns)
					}
				}
			}
		}
		s, _ := r.str(tmpl, warns)
		return r.sub(s, vars, warn), true
	case "GetAtt":
		var ref string
		if arg.Kind == yaml.SequenceNode {
			parts := make([]string, 0, len(arg.Content))
			for _, c := range arg.Content {
				p, _ := r.str(c, warns)
				parts = append(parts, p)
			}
			ref = strings.Join(parts, ".")
		} else {
			ref, _ = r.str(arg, warns)
		}
		warn("!GetAtt %s cannot be resolved locally; kept as %q", ref, ref)
		return ref, true
	case "Join":
		if arg.Kind == yaml.SequenceNode && len(arg.Content) == 2 {
			sep, _ := r.str(arg.Content[0], warns)
			if list := deref(arg.Content[1]); list.Kind == yaml.SequenceNode {
				parts := make([]string, 0, len(list.Content))
				for _, c := range list.Content {
					if p, ok := r.str(c, warns); ok {
						parts = append(parts, p)
					}
				}
				return strings.Join(parts, sep), true
			}
		}
	case "If":
		if v, ok, done := r.ifValue(arg, warns); done {
			return v, ok
		}
	case "Select":
		if arg.Kind == yaml.SequenceNode && len(arg.Content) == 2 {
			is, _ := r.str(arg.Content[0], warns)
			i, err := strconv.Atoi(is)
			if list := deref(arg.Content[1]); err == nil && list.Kind == yaml.SequenceNode && i >= 0 && i < len(list.Content) {
				return r.str(list.Content[i], warns)
			}
		}
	}
	lit := literal(name, arg)
	warn("!%s cannot be resolved locally; kept as %q", name, lit)
	return lit, true
}

// ref resolves a parameter or pseudo parameter.
func (r *resolver) ref(name string) (string, bool) {
	if v, ok := r.params[name]; ok {
		return v, true
	}
	v, ok := pseudo[name]
	return v, ok
}

var subVar = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$\{([^}]*)\}`) })

// sub evaluates a Fn::Sub template: ${Param}, ${AWS::Region}, ${Var} from
// vars; ${!Literal} is written as ${Literal}; ${Resource.Attr} and unknown
// names are kept with a warning.
func (r *resolver) sub(s string, vars map[string]string, warn func(string, ...any)) string {
	return subVar().ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		if v, ok := vars[name]; ok {
			return v
		}
		if v, ok := r.ref(name); ok {
			return v
		}
		warn("!Sub %s cannot be resolved locally; kept literally", m)
		return m
	})
}

// literal renders an unevaluated intrinsic for a value and a warning.
func literal(name string, arg *yaml.Node) string {
	if arg.Kind == yaml.ScalarNode {
		return "!" + name + " " + arg.Value
	}
	out, err := yaml.Marshal(arg)
	if err != nil {
		return "!" + name
	}
	return "!" + name + " " + strings.TrimSpace(strings.ReplaceAll(string(out), "\n", " "))
}

// ParseParameterOverrides reads sam's --parameter-overrides values: each
// item holds one or more space-separated Key=Value or
// ParameterKey=Key,ParameterValue=Value pairs (a value may be quoted).
func ParseParameterOverrides(items []string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range items {
		for _, f := range splitQuoted(item) {
			if k, ok := strings.CutPrefix(f, "ParameterKey="); ok {
				key, val, found := strings.Cut(k, ",ParameterValue=")
				if !found || key == "" {
					return nil, fmt.Errorf("%q: want ParameterKey=Key,ParameterValue=Value", f)
				}
				out[key] = val
				continue
			}
			k, v, ok := strings.Cut(f, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("%q: want Key=Value", f)
			}
			out[k] = v
		}
	}
	return out, nil
}

// splitQuoted splits s at spaces outside single or double quotes, removing
// the quotes.
func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	in := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '"' || r == '\''):
			quote, in = r, true
		case quote == 0 && r == ' ':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// eventInvoke reads EventInvokeConfig (DestinationConfig is not run
// locally: a warning).
func (r *resolver) eventInvoke(n *yaml.Node, w *[]string, problems []error) (EventInvoke, []error) {
	var c EventInvoke
	if v := get(n, "MaximumRetryAttempts"); v != nil {
		s, _ := r.str(v, w)
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 || i > 2 {
			problems = append(problems, fmt.Errorf("line %d: EventInvokeConfig MaximumRetryAttempts %q: want 0, 1 or 2", v.Line, s))
		} else {
			c.MaximumRetryAttempts = &i
		}
	}
	if v := get(n, "MaximumEventAgeInSeconds"); v != nil {
		s, _ := r.str(v, w)
		i, err := strconv.Atoi(s)
		if err != nil || i < 60 || i > 21600 {
			problems = append(problems, fmt.Errorf("line %d: EventInvokeConfig MaximumEventAgeInSeconds %q: want 60..21600", v.Line, s))
		} else {
			c.MaximumEventAge = time.Duration(i) * time.Second
		}
	}
	if v := get(n, "DestinationConfig"); v != nil {
		*w = append(*w, fmt.Sprintf("line %d: EventInvokeConfig DestinationConfig is not run locally: events that fail their retries are counted in the summary, not sent", v.Line))
	}
	return c, problems
}
