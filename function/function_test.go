package function

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var ignoreUnexported = cmpopts.IgnoreUnexported(Definition{})

func TestParseTimeout(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "3", want: 3 * time.Second},
		{in: " 30 ", want: 30 * time.Second},
		{in: "2.5", want: 2500 * time.Millisecond},
		{in: "900", want: 900 * time.Second},
		{in: "3s", want: 3 * time.Second},
		{in: "1500ms", want: 1500 * time.Millisecond},
		{in: "1m30s", want: 90 * time.Second},
		{in: "15m", want: 15 * time.Minute},
		{in: "1", want: time.Second},
		{in: "0.5", wantErr: true},
		{in: "500ms", wantErr: true},
		{in: "0", wantErr: true},
		{in: "-3", wantErr: true},
		{in: "901", wantErr: true},
		{in: "16m", wantErr: true},
		{in: "1e300", wantErr: true},
		{in: "NaN", wantErr: true},
		{in: "", wantErr: true},
		{in: "three", wantErr: true},
		{in: "3 s", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTimeout(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseTimeout(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseTimeout(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzParseTimeout(f *testing.F) {
	for _, s := range []string{"3", "2.5", "1500ms", "1e300", "NaN", "-0", "900.0000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseTimeout(s)
		if err == nil && (d < MinTimeout || d > MaxTimeout) {
			t.Errorf("ParseTimeout(%q) = %v, outside Lambda's range", s, d)
		}
	})
}

func TestParseEnv(t *testing.T) {
	tests := []struct {
		in      []string
		want    map[string]string
		wantErr bool
	}{
		{in: nil, want: map[string]string{}},
		{in: []string{"A=1", "B=x=y", "C="}, want: map[string]string{"A": "1", "B": "x=y", "C": ""}},
		{in: []string{"A=1", "A=2"}, want: map[string]string{"A": "2"}},
		{in: []string{"NOVALUE"}, wantErr: true},
		{in: []string{"=v"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, ","), func(t *testing.T) {
			got, err := ParseEnv(tt.in)
			if tt.wantErr != (err != nil) {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
		})
	}
}

// executable writes an executable file at dir/name.
func executable(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFromHandler(t *testing.T) {
	dir := t.TempDir()
	boot := executable(t, dir, "my-fn/bootstrap")
	script := executable(t, dir, "hello.world.sh")
	plain := filepath.Join(dir, "plain.txt")
	if err := os.WriteFile(plain, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		opts    []Option
		want    Definition
		wantErr string
	}{
		{
			name: "defaults",
			path: boot,
			want: Definition{Name: "my-fn", Handler: "bootstrap", Runtime: "provided.al2023", CodeDir: filepath.Dir(boot),
				Command: []string{boot}, MemoryMB: 128, Timeout: 3 * time.Second, Architecture: "x86_64", Env: map[string]string{}},
		},
		{
			name: "options",
			path: script,
			opts: []Option{WithName("orders"), WithMemoryMB(1024), WithTimeout(90 * time.Second), WithArchitecture("arm64"),
				WithEnv(map[string]string{"A": "1"}), WithEnv(map[string]string{"B": "2"}), WithExec(true), WithHandler("h"), WithArgs("--flag")},
			want: Definition{Name: "orders", Handler: "h", Runtime: "provided.al2023", CodeDir: dir,
				Command: []string{script, "--flag"}, MemoryMB: 1024, Timeout: 90 * time.Second, Architecture: "arm64",
				Env: map[string]string{"A": "1", "B": "2"}, Exec: true},
		},
		{
			name: "name from script",
			path: script,
			want: Definition{Name: "hello-world", Handler: "hello.world.sh", Runtime: "provided.al2023", CodeDir: dir,
				Command: []string{script}, MemoryMB: 128, Timeout: 3 * time.Second, Architecture: "x86_64", Env: map[string]string{}},
		},
		{name: "missing", path: filepath.Join(dir, "nope/bootstrap"), wantErr: "does not exist (build it"},
		{name: "not executable", path: plain, wantErr: "chmod +x"},
		{name: "directory", path: dir, wantErr: "is a directory"},
		{name: "empty", path: "", wantErr: "empty handler path"},
		{name: "memory low", path: boot, opts: []Option{WithMemoryMB(64)}, wantErr: "memory 64 MB: Lambda allows 128..10240 MB"},
		{name: "memory high", path: boot, opts: []Option{WithMemoryMB(10241)}, wantErr: "memory 10241 MB"},
		{name: "timeout", path: boot, opts: []Option{WithTimeout(901 * time.Second)}, wantErr: "up to 900 seconds"},
		{name: "arch", path: boot, opts: []Option{WithArchitecture("amd64")}, wantErr: `architecture "amd64"`},
		{name: "name", path: boot, opts: []Option{WithName("has space")}, wantErr: `name "has space"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromHandler(tt.path, tt.opts...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, ignoreUnexported); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateShortTimeout(t *testing.T) {
	// Sub-second timeouts are allowed in a Definition (tests use them), only
	// ParseTimeout holds users to Lambda's 1 s minimum.
	d, err := FromHandler(executable(t, t.TempDir(), "bootstrap"), WithTimeout(200*time.Millisecond))
	if err != nil || d.Timeout != 200*time.Millisecond {
		t.Errorf("FromHandler with a 200ms timeout: %v, %v", d.Timeout, err)
	}
	if err := (Definition{Name: "x", MemoryMB: 128, Command: []string{"sh"}}).Validate(); err == nil || !strings.Contains(err.Error(), "timeout 0s") {
		t.Errorf("zero timeout: %v", err)
	}
}

func TestNameFromPath(t *testing.T) {
	tests := map[string]string{
		"/x/go-emf/bootstrap":           "go-emf",
		"/x/handler.sh":                 "handler",
		"/x/my fn.py":                   "my-fn",
		"/x/.hidden":                    "-hidden",
		"/bootstrap":                    "function",
		"/x/" + strings.Repeat("a", 80): strings.Repeat("a", 64),
	}
	for in, want := range tests {
		if got := nameFromPath(in); got != want {
			t.Errorf("nameFromPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFind(t *testing.T) {
	defs := []Definition{{Name: "A"}, {Name: "B"}}
	if d, err := Find(defs, "B"); err != nil || d.Name != "B" {
		t.Errorf("Find B = %v, %v", d.Name, err)
	}
	if _, err := Find(defs, "C"); err == nil || !strings.Contains(err.Error(), "have: A, B") {
		t.Errorf("Find C: %v", err)
	}
}
