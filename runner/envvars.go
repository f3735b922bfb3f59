package runner

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Lambda's values of the variables a function may change (PATH,
// LD_LIBRARY_PATH, LANG), from the developer guide's table of defined
// runtime environment variables.
const (
	lambdaPATH          = "/usr/local/bin:/usr/bin/:/bin:/opt/bin"
	lambdaLDLibraryPath = "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"
	lambdaLANG          = "en_US.UTF-8"
)

// lambdaEnv sets PATH, LD_LIBRARY_PATH and LANG as Lambda does; the
// function's own Env may change them. Where the runtime's interface client
// is a host tool outside those folders (an npm, gem or pip install), its
// folder (and node's) is added to PATH, and HOME is passed to the Python
// and Ruby runtimes, which find user-installed packages through it.
func (f *fn) lambdaEnv(vars, host map[string]string) {
	dirs := strings.Split(lambdaPATH, ":")
	path := lambdaPATH
	add := func(bin string) {
		d := filepath.Dir(bin)
		if bin == "" || !filepath.IsAbs(d) || slices.Contains(dirs, d) || slices.Contains(dirs, d+"/") {
			return
		}
		dirs = append(dirs, d)
		path += ":" + d
	}
	rt := f.def.Runtime
	if len(f.def.Command) > 0 && !strings.HasPrefix(rt, "provided") && rt != "go1.x" {
		if rel, err := filepath.Rel(f.def.CodeDir, f.def.Command[0]); err != nil || !filepath.IsLocal(rel) {
			add(f.def.Command[0])
		}
	}
	if strings.HasPrefix(rt, "nodejs") {
		node, _ := exec.LookPath("node")
		add(node)
	}
	if (strings.HasPrefix(rt, "python") || strings.HasPrefix(rt, "ruby")) && host["HOME"] != "" {
		vars["HOME"] = host["HOME"]
	}
	vars["PATH"] = path
	vars["LD_LIBRARY_PATH"] = lambdaLDLibraryPath
	vars["LANG"] = lambdaLANG
}

// invokedARN is the function's ARN with the caller's qualifier.
func (f *fn) invokedARN(inv *invocation) string {
	if q := inv.req.Qualifier; q != "" {
		return f.arn + ":" + q
	}
	return f.arn
}
