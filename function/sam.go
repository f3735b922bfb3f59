package function

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// honoured are the function properties lambdabridge applies; every other
// property of a function (or of Globals.Function) gets a warning.
var honoured = []string{
	"Handler", "Runtime", "CodeUri", "MemorySize", "Timeout", "Architectures", "Environment",
	"Layers", "LoggingConfig", "EventInvokeConfig", "PackageType", "InlineCode", "Description",
}

// unhonouredNotes explains some properties that are not applied.
var unhonouredNotes = map[string]string{
	"ReservedConcurrentExecutions": "give it with --reserved-concurrency",
	"Events":                       "event sources do not run locally; invoke the function or serve the invoke API",
	"Policies":                     "IAM is not enforced locally",
	"Role":                         "IAM is not enforced locally",
	"VpcConfig":                    "the function runs on the host's network",
	"Tracing":                      "no X-Ray daemon locally; _X_AMZN_TRACE_ID is set",
	"ProvisionedConcurrencyConfig": "every environment starts on demand",
	"AutoPublishAlias":             "there is only $LATEST locally",
	"FunctionName":                 "the function is named by its logical id",
}

// unhonoured returns a warning for each property of props not applied
// locally.
func unhonoured(props *yaml.Node, where string) []string {
	props = deref(props)
	if props == nil || props.Kind != yaml.MappingNode {
		return nil
	}
	var out []string
	for i := 0; i+1 < len(props.Content); i += 2 {
		k := props.Content[i]
		if slices.Contains(honoured, k.Value) {
			continue
		}
		msg := fmt.Sprintf("line %d: %s%s is not honoured locally", k.Line, where, k.Value)
		if note := unhonouredNotes[k.Value]; note != "" {
			msg += " (" + note + ")"
		}
		out = append(out, msg)
	}
	return out
}

// conditions evaluates the template's Conditions (Fn::Equals, Fn::Not,
// Fn::And, Fn::Or, Condition) once the parameters are known.
func (r *resolver) conditions(root *yaml.Node, warns *[]string) {
	r.conds = map[string]bool{}
	cs := get(root, "Conditions")
	if cs == nil || cs.Kind != yaml.MappingNode {
		return
	}
	r.condNodes = map[string]*yaml.Node{}
	for i := 0; i+1 < len(cs.Content); i += 2 {
		r.condNodes[cs.Content[i].Value] = deref(cs.Content[i+1])
	}
	for name := range r.condNodes {
		r.condition(name, warns, 0)
	}
}

// condition returns the value of the condition called name.
func (r *resolver) condition(name string, warns *[]string, depth int) bool {
	if v, ok := r.conds[name]; ok {
		return v
	}
	n, ok := r.condNodes[name]
	if !ok || depth > 20 {
		*warns = append(*warns, fmt.Sprintf("condition %s is not defined (or is circular); taken as false", name))
		return false
	}
	v := r.boolOf(n, warns, depth+1)
	r.conds[name] = v
	return v
}

// boolOf evaluates a condition expression.
func (r *resolver) boolOf(n *yaml.Node, warns *[]string, depth int) bool {
	name, arg, ok := intrinsic(deref(n))
	if !ok {
		v, _ := r.str(n, warns)
		return v == "true"
	}
	args := func() []*yaml.Node {
		if arg.Kind == yaml.SequenceNode {
			return arg.Content
		}
		return []*yaml.Node{arg}
	}
	switch name {
	case "Condition":
		c, _ := r.str(arg, warns)
		return r.condition(c, warns, depth)
	case "Equals":
		if a := args(); len(a) == 2 {
			x, _ := r.str(a[0], warns)
			y, _ := r.str(a[1], warns)
			return x == y
		}
	case "Not":
		if a := args(); len(a) == 1 {
			return !r.boolOf(a[0], warns, depth)
		}
	case "And", "Or":
		a := args()
		all, any := true, false
		for _, c := range a {
			v := r.boolOf(c, warns, depth)
			all, any = all && v, any || v
		}
		if name == "And" {
			return all
		}
		return any
	}
	*warns = append(*warns, fmt.Sprintf("line %d: condition !%s cannot be evaluated locally; taken as false", n.Line, name))
	return false
}

// ifValue evaluates Fn::If [condition, then, else].
func (r *resolver) ifValue(arg *yaml.Node, warns *[]string) (string, bool, bool) {
	if arg.Kind != yaml.SequenceNode || len(arg.Content) != 3 {
		return "", false, false
	}
	c, _ := r.str(arg.Content[0], warns)
	if _, known := r.condNodes[c]; !known {
		return "", false, false
	}
	if r.condition(c, warns, 0) {
		v, ok := r.str(arg.Content[1], warns)
		return v, ok, true
	}
	v, ok := r.str(arg.Content[2], warns)
	return v, ok, true
}

// EnvVarsFile reads sam's --env-vars file: JSON with an object per function
// logical id and "Parameters" for all functions, each mapping variable
// names to values.
func EnvVarsFile(path string) (map[string]map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("env-vars: %w", err)
	}
	var raw map[string]map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("env-vars %s: want {\"FunctionId\": {\"VAR\": \"value\"}, \"Parameters\": {...}}: %w", path, err)
	}
	out := map[string]map[string]string{}
	for fn, vars := range raw {
		out[fn] = map[string]string{}
		for k, v := range vars {
			switch v := v.(type) {
			case string:
				out[fn][k] = v
			case nil:
				out[fn][k] = ""
			default:
				b, _ := json.Marshal(v)
				out[fn][k] = strings.Trim(string(b), `"`)
			}
		}
	}
	return out, nil
}

// ApplyEnvVars applies an --env-vars file to d as sam does: "Parameters"
// then the function's own object; only variables the template declares
// for the function are set (the others get a warning).
func (d *Definition) ApplyEnvVars(file map[string]map[string]string) {
	for _, scope := range []string{"Parameters", d.Name} {
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range file[scope] {
				if !yield(k) {
					return
				}
			}
		}) {
			if _, declared := d.Env[k]; !declared {
				if scope == d.Name {
					d.Warnings = append(d.Warnings, "env-vars: "+k+" is not among the function's Environment Variables in the template; not set (as sam)")
				}
				continue
			}
			d.Env[k] = file[scope][k]
		}
	}
}
