package function

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeZip makes a zip file of entries (name -> content; a name ending in
// "*" is executable, without the star).
func writeZip(t *testing.T, entries map[string]string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "layer.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, body := range entries {
		h := &zip.FileHeader{Name: strings.TrimSuffix(name, "*"), Method: zip.Deflate}
		h.SetMode(0o644)
		if strings.HasSuffix(name, "*") {
			h.SetMode(0o755)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func TestLayerDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	zipped := writeZip(t, map[string]string{"extensions/ext*": "#!/bin/sh\n", "lib/data.txt": "data"})
	dir, err := LayerDir(zipped)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "extensions", "ext")); err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("extension in the unpacked layer: %v %v", fi, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "lib", "data.txt")); string(b) != "data" {
		t.Errorf("data file: %q %v", b, err)
	}
	again, err := LayerDir(zipped)
	if err != nil || again != dir {
		t.Errorf("second unpack: %s %v, want the cached %s", again, err, dir)
	}
	if d, err := LayerDir("testdata/layer"); err != nil || !filepath.IsAbs(d) {
		t.Errorf("folder layer: %s %v", d, err)
	}
	for name, path := range map[string]string{
		"zip slip": writeZip(t, map[string]string{"../evil": "x"}),
		"missing":  "testdata/no-such-layer",
		"not zip":  "testdata/full.yaml",
	} {
		if _, err := LayerDir(path); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
