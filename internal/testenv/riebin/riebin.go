// Package riebin finds the AWS Lambda Runtime Interface Emulator's binary
// (aws-lambda-rie) for tests and benchmarks, building it from the Go module
// proxy once and caching it by version. It uses only the standard library,
// so that runner/internal/riebench (a module of its own) can import it
// without taking lambdabridge's test dependencies into its go.mod.
//
//	bin, err := riebin.Binary()
//	if err != nil { /* skip, saying err */ }
//	cmd := exec.Command(bin, "--runtime-interface-emulator-address", "127.0.0.1:8080", "./bootstrap")
package riebin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Module is the AWS Lambda Runtime Interface Emulator's Go module. Its
// version is written once, in runner/internal/riebench/go.mod (a module of
// its own, so that the emulator stays out of lambdabridge's go.mod).
const Module = "github.com/aws/aws-lambda-runtime-interface-emulator"

// moduleDir is the module that requires the emulator, relative to
// lambdabridge's root.
const moduleDir = "runner/internal/riebench"

// Binary returns the emulator's binary (aws-lambda-rie) of the version
// runner/internal/riebench requires, building it from the Go module proxy
// into <user cache>/lambdabridge/aws-lambda-rie/<version>/ the first time;
// the error says why it cannot be had.
func Binary() (string, error) {
	root, err := goOutput("", "list", "-m", "-f", "{{.Dir}}", "github.com/lambdabridge/lambdabridge")
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, moduleDir)
	version, err := goOutput(dir, "list", "-m", "-f", "{{.Version}}", Module)
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("aws-lambda-rie: no cache directory: %w", err)
	}
	bin := filepath.Join(cache, "lambdabridge", "aws-lambda-rie", version, "aws-lambda-rie")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", fmt.Errorf("aws-lambda-rie: %w", err)
	}
	tmp := bin + ".tmp" + strconv.Itoa(os.Getpid())
	if _, err := goOutput(dir, "build", "-o", tmp, Module+"/cmd/aws-lambda-rie"); err != nil {
		return "", fmt.Errorf("aws-lambda-rie %s does not build here: %w", version, err)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("aws-lambda-rie: %w", err)
	}
	return bin, nil
}

// goOutput runs the go command in dir ("": here) and returns its output,
// trimmed; the error holds the command and what it wrote.
func goOutput(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
