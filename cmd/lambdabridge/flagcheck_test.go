package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A flag and the configuration file's key for the same setting go through
// one check and say the same rule (issue 16: the file accepted what the
// flags refused, memory: -5 ran as 128 MB).
func TestFlagsAndFileShareChecks(t *testing.T) {
	dir := t.TempDir()
	script := writeScript(t, dir, "ok.sh", "#!/bin/sh\ncat >/dev/null\necho '{}'\n")
	for _, tc := range []struct {
		name       string
		flags      []string
		yaml       string
		cmd, flag  string
		key        string
		wantSuffix string
	}{
		{"memory", []string{"--memory", "-5"}, "functions:\n  - name: f\n    handler: " + script + "\n    memory: -5\n",
			"run", "--memory", "functions[0].memory", "-5: Lambda allows 128..10240 MB"},
		{"concurrency", []string{"--concurrency", "-1"}, "runner:\n  concurrency: -1\n",
			"run", "--concurrency", "runner.concurrency", "-1: must be at least 1 execution environment"},
		{"idle timeout", []string{"--idle-timeout", "-5m"}, "runner:\n  idle_timeout: -5m\n",
			"run", "--idle-timeout", "runner.idle_timeout", "-5m0s: must be positive"},
		{"remote_write interval", []string{"--remote-write-interval", "0s"}, "remote_write_interval: 0s\n",
			"tail", "--remote-write-interval", "remote_write_interval", "0s: must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
			if err := os.WriteFile(cfg, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{tc.cmd}
			if tc.cmd == "run" {
				args = append(args, "--exec", "--handler", script, "--invocations", "1")
			}
			_, flagErr, flagCode := runMain(t, context.Background(), "", append(args, tc.flags...)...)
			_, fileErr, fileCode := runMain(t, context.Background(), "", tc.cmd, "--config", cfg)
			wantFlag := tc.flag + ": " + tc.wantSuffix
			wantFile := tc.key + ": " + tc.wantSuffix
			if flagCode != exitUsage || !strings.Contains(flagErr, wantFlag) {
				t.Errorf("flag: exit %d, stderr %q; want %d and %q", flagCode, flagErr, exitUsage, wantFlag)
			}
			if fileCode != exitUsage || !strings.Contains(fileErr, wantFile) {
				t.Errorf("file: exit %d, stderr %q; want %d and %q", fileCode, fileErr, exitUsage, wantFile)
			}
		})
	}
}
