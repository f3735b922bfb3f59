package main

import (
	"archive/zip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestCheckConfigExtension: check-config --extension reads the layer's
// file and the LAMBDABRIDGE_* variables as the extension does.
func TestCheckConfigExtension(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ext.yaml")
	if err := os.WriteFile(file, []byte("extension:\n  flush: periodic\n  flush_interval: 5s\nremote_write:\n  - url: http://127.0.0.1:9090/api/v1/write\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"file", nil, []string{file}, 0, "extension configuration valid: flush periodic every 5s; DogStatsD 127.0.0.1:8125 read every 50ms, EMF agent 127.0.0.1:25888 (UDP read every 50ms); remote_write http://127.0.0.1:9090/api/v1/write"},
		{"variables override the file", map[string]string{"LAMBDABRIDGE_FLUSH": "invocation"}, []string{file}, 0, "valid: flush invocation;"},
		{"variables only", map[string]string{"LAMBDABRIDGE_PUSHGATEWAY_URL": "http://127.0.0.1:9091"}, nil, 0, "pushgateway http://127.0.0.1:9091 job lambda"},
		{"no sink", nil, nil, 2, "no sink: set LAMBDABRIDGE_REMOTE_WRITE_URL"},
		{"bad interval", map[string]string{"LAMBDABRIDGE_FLUSH_INTERVAL": "5"}, []string{file}, 2, `LAMBDABRIDGE_FLUSH_INTERVAL="5": want a duration`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"LAMBDABRIDGE_CONFIG", "LAMBDABRIDGE_REMOTE_WRITE_URL", "LAMBDABRIDGE_PUSHGATEWAY_URL", "LAMBDABRIDGE_FLUSH", "LAMBDABRIDGE_FLUSH_INTERVAL", "LAMBDABRIDGE_SIGV4_REGION"} {
				t.Setenv(k, tt.env[k])
			}
			out, errOut, code := runCmd(t, "", append([]string{"check-config", "--extension"}, tt.args...)...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d, want %d; output:\n%s%s\nwant it to contain %q", code, tt.code, out, errOut, tt.want)
			}
		})
	}
}

// TestLayerBuildCommand builds a layer from a prebuilt executable (this
// test binary, a Linux executable for this machine) and refuses one built
// for another architecture.
func TestLayerBuildCommand(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("needs a linux/amd64 executable")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(t.TempDir(), "layer.zip")
	out, errOut, code := runCmd(t, "", "layer", "build", "--binary", self, "-o", zipPath)
	if code != 0 || !strings.Contains(out, "layer for x86_64") {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "extensions/lambdabridge-extension" || zr.File[0].Mode().Perm() != 0o755 {
		t.Errorf("zip entries %v, want extensions/lambdabridge-extension 0755", zr.File)
	}
	_, errOut, code = runCmd(t, "", "layer", "build", "--arch", "arm64", "--binary", self, "-o", zipPath)
	if code != 2 || !strings.Contains(errOut, "the layer is for EM_AARCH64") {
		t.Errorf("arm64 layer of an amd64 binary: exit %d, want 2:\n%s", code, errOut)
	}
	_, errOut, code = runCmd(t, "", "layer", "build", "--arch", "sparc")
	if code != 2 || !strings.Contains(errOut, "sparc") {
		t.Errorf("--arch sparc: exit %d, want 2:\n%s", code, errOut)
	}
}
