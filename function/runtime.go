package function

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// lookPath is exec.LookPath; tests replace it.
var lookPath = exec.LookPath

// RuntimeCommand returns the argv that starts one environment of a function
// with the given Lambda runtime, handler and code directory (absolute):
//
//   - provided, provided.al2, provided.al2023: CodeDir/bootstrap
//   - go1.x: CodeDir/<Handler> (a binary built with aws-lambda-go speaks the Runtime API)
//   - nodejs*: aws-lambda-ric <handler> (CodeDir/node_modules/.bin, then PATH)
//   - python*: python3 -m awslambdaric <handler> (needs awslambdaric importable)
//   - ruby*: aws_lambda_ric <handler> (CodeDir/bin, vendor/bundle, then PATH)
//
// When the runtime's interface client is missing or the runtime is not
// supported, the error wraps ErrRuntimeUnavailable and says what to install.
// Whether CodeDir/bootstrap exists is checked by Validate, not here.
func RuntimeCommand(runtime, handler, codeDir string) ([]string, error) {
	switch {
	case runtime == "provided" || strings.HasPrefix(runtime, "provided."):
		return []string{filepath.Join(codeDir, "bootstrap")}, nil
	case runtime == "go1.x":
		if handler == "" {
			return nil, fmt.Errorf("%w: runtime go1.x needs Handler (the binary's name in CodeUri)", ErrRuntimeUnavailable)
		}
		return []string{filepath.Join(codeDir, handler)}, nil
	case strings.HasPrefix(runtime, "nodejs"):
		if handler == "" {
			return nil, fmt.Errorf("%w: runtime %s needs Handler (file.function)", ErrRuntimeUnavailable, runtime)
		}
		ric, ok := findTool(codeDir, "aws-lambda-ric", "node_modules/.bin")
		if !ok {
			return nil, fmt.Errorf("%w: runtime %s runs through the npm package aws-lambda-ric, which is not installed: run `npm install aws-lambda-ric` in %s (or install it globally so aws-lambda-ric is on PATH)", ErrRuntimeUnavailable, runtime, codeDir)
		}
		if _, err := lookPath("node"); err != nil {
			return nil, fmt.Errorf("%w: runtime %s needs node on PATH", ErrRuntimeUnavailable, runtime)
		}
		return []string{ric, handler}, nil
	case strings.HasPrefix(runtime, "python"):
		if handler == "" {
			return nil, fmt.Errorf("%w: runtime %s needs Handler (module.function)", ErrRuntimeUnavailable, runtime)
		}
		py := pythonFor(runtime)
		if py == "" {
			return nil, fmt.Errorf("%w: runtime %s needs python3 on PATH", ErrRuntimeUnavailable, runtime)
		}
		if !pythonHasRIC(py, codeDir) {
			return nil, fmt.Errorf("%w: runtime %s runs through the Python package awslambdaric, which is not installed: run `pip install --target %s awslambdaric` (or `pip install awslambdaric`)", ErrRuntimeUnavailable, runtime, codeDir)
		}
		return []string{py, "-m", "awslambdaric", handler}, nil
	case strings.HasPrefix(runtime, "ruby"):
		if handler == "" {
			return nil, fmt.Errorf("%w: runtime %s needs Handler (file.method)", ErrRuntimeUnavailable, runtime)
		}
		ric, ok := findTool(codeDir, "aws_lambda_ric", "bin")
		if !ok {
			return nil, fmt.Errorf("%w: runtime %s runs through the gem aws_lambda_ric, which is not installed: run `gem install aws_lambda_ric`", ErrRuntimeUnavailable, runtime)
		}
		return []string{ric, handler}, nil
	case strings.HasPrefix(runtime, "java"):
		return nil, fmt.Errorf("%w: runtime %s is not supported locally: package the function with the aws-lambda-java-runtime-interface-client as a custom runtime (provided.al2023, a bootstrap that starts java) and use that", ErrRuntimeUnavailable, runtime)
	case strings.HasPrefix(runtime, "dotnet"):
		return nil, fmt.Errorf("%w: runtime %s is not supported locally: publish the function as a custom runtime (provided.al2023 with a bootstrap, Amazon.Lambda.RuntimeSupport) and use that", ErrRuntimeUnavailable, runtime)
	case runtime == "":
		return nil, fmt.Errorf("%w: no Runtime (set Runtime on the function or in Globals.Function)", ErrRuntimeUnavailable)
	}
	return nil, fmt.Errorf("%w: runtime %q is not supported locally: use a custom runtime (provided.al2023 with a bootstrap in CodeUri)", ErrRuntimeUnavailable, runtime)
}

// findTool looks for an executable called name in codeDir/sub, then on PATH.
func findTool(codeDir, name, sub string) (string, bool) {
	if codeDir != "" {
		p := filepath.Join(codeDir, sub, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode().Perm()&0o111 != 0 {
			return p, true
		}
	}
	if p, err := lookPath(name); err == nil {
		return p, true
	}
	return "", false
}

// pythonFor picks the interpreter for a python runtime: python3.12 for
// "python3.12" when on PATH, else python3.
func pythonFor(runtime string) string {
	for _, name := range []string{runtime, "python3"} {
		if p, err := lookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// pythonHasRIC reports whether awslambdaric is vendored in codeDir (pip
// install --target) or importable by py.
func pythonHasRIC(py, codeDir string) bool {
	if fi, err := os.Stat(filepath.Join(codeDir, "awslambdaric")); err == nil && fi.IsDir() {
		return true
	}
	return pythonImports(py, "awslambdaric")
}

// pythonImports runs py to check a module is importable; tests replace it.
var pythonImports = func(py, module string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, py, "-c", "import "+module).Run() == nil
}
