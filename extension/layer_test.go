package extension_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdabridge/lambdabridge/extension"
)

// TestLayerBuild builds layer zips from the extension built for this
// machine and checks their entries, modes and the refusals.
func TestLayerBuild(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the prebuilt extension is linux/amd64 only here")
	}
	bin := filepath.Join(binaries(t), "layer", "extensions", "lambdabridge-extension")
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("extension:\n  flush: periodic\n  flush_interval: 5s\nremote_write:\n  - url: http://127.0.0.1:9090/api/v1/write\n"), 0o644)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("extension:\n  flush: sometimes\n"), 0o644)
	local := filepath.Join(dir, "local.yaml")
	os.WriteFile(local, []byte("scrape:\n  listen: 127.0.0.1:9100\n"), 0o644)
	tests := []struct {
		name    string
		layer   extension.Layer
		entries []string
		err     string
	}{
		{"binary only", extension.Layer{Arch: "x86_64", Binary: bin}, []string{"extensions/lambdabridge-extension -rwxr-xr-x"}, ""},
		{"with its configuration", extension.Layer{Arch: "x86_64", Binary: bin, Config: good},
			[]string{"extensions/lambdabridge-extension -rwxr-xr-x", "lambdabridge/lambdabridge.yaml -rw-r--r--"}, ""},
		{"wrong architecture", extension.Layer{Arch: "arm64", Binary: bin}, nil, "the extension is built for EM_X86_64, the layer is for EM_AARCH64"},
		{"unknown architecture", extension.Layer{Arch: "ppc64", Binary: bin}, nil, `architecture "ppc64": want x86_64 or arm64`},
		{"bad strategy in the file", extension.Layer{Arch: "x86_64", Binary: bin, Config: bad}, nil, `LAMBDABRIDGE_FLUSH="sometimes"`},
		{"a local run's key", extension.Layer{Arch: "x86_64", Binary: bin, Config: local}, nil, "line 1: scrape describes a local run"},
		{"not a checkout", extension.Layer{Arch: "x86_64", Source: dir}, nil, "is not a lambdabridge checkout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := tc.layer.Build(context.Background(), &buf)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range zr.File {
				got = append(got, f.Name+" "+f.Mode().String())
				if f.Name == extension.LayerBinary {
					rc, _ := f.Open()
					b, _ := io.ReadAll(rc)
					rc.Close()
					want, _ := os.ReadFile(bin)
					if !bytes.Equal(b, want) {
						t.Errorf("%s differs from the binary", f.Name)
					}
				}
			}
			if d := cmp.Diff(tc.entries, got); d != "" {
				t.Errorf("entries (-want +got):\n%s", d)
			}
		})
	}
}

// TestHostArch: this machine's GOARCH by Lambda's name, from the same
// table the layer is built with.
func TestHostArch(t *testing.T) {
	want := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]
	got, err := extension.HostArch()
	if want == "" {
		if err == nil {
			t.Errorf("HostArch() = %q on %s, want an error", got, runtime.GOARCH)
		}
		return
	}
	if got != want || err != nil {
		t.Errorf("HostArch() = %q, %v; want %q", got, err, want)
	}
}
