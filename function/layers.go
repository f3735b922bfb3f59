package function

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// WithLayers adds layers (folders or .zip files, see LayerDir) in order.
// A layer that cannot be read makes FromHandler fail.
func WithLayers(paths ...string) Option {
	return func(d *Definition) {
		for _, p := range paths {
			dir, err := LayerDir(p)
			if err != nil {
				d.cmdErr = errors.Join(d.cmdErr, err)
				continue
			}
			d.Layers = append(d.Layers, dir)
		}
	}
}

// LayerDir returns the folder holding a layer's contents (what Lambda puts
// at /opt): path itself for a folder; for a .zip file, the folder it was
// unpacked into, under the user's cache (lambdabridge/unzipped/<sha256>),
// unpacked once per content.
func LayerDir(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("layer %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("layer %s: %w", path, err)
	}
	if fi.IsDir() {
		return abs, nil
	}
	if !strings.HasSuffix(strings.ToLower(abs), ".zip") {
		return "", fmt.Errorf("layer %s: want a folder or a .zip file", path)
	}
	dir, err := unzipCached(abs)
	if err != nil {
		return "", fmt.Errorf("layer %s: %w", path, err)
	}
	return dir, nil
}

// unzipCached unpacks the zip file at path into a cache folder named by its
// content's hash and returns the folder.
func unzipCached(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "lambdabridge", "unzipped", hex.EncodeToString(h.Sum(nil))[:32])
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir)+"", "")
	if err != nil {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return "", err
		}
		if tmp, err = os.MkdirTemp(filepath.Dir(dir), ""); err != nil {
			return "", err
		}
	}
	if err := unzip(path, tmp); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp) // another process unpacked it first
		if _, serr := os.Stat(filepath.Join(dir, ".complete")); serr != nil {
			return "", err
		}
	}
	return dir, nil
}

// unzip unpacks a zip file into dir, keeping file modes (executables) and
// symbolic links; an entry that leads outside dir is an error.
func unzip(path, dir string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return err
	}
	defer zr.Close()
	for _, zf := range zr.File {
		name := filepath.FromSlash(zf.Name)
		if !filepath.IsLocal(name) {
			return fmt.Errorf("zip entry %q leads outside the folder", zf.Name)
		}
		dst := filepath.Join(dir, name)
		if err := unzipOne(zf, dst); err != nil {
			return fmt.Errorf("zip entry %q: %w", zf.Name, err)
		}
	}
	return nil
}

func unzipOne(zf *zip.File, dst string) error {
	mode := zf.Mode()
	if mode.IsDir() {
		return os.MkdirAll(dst, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	rc, err := zf.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	if mode&os.ModeSymlink != 0 {
		target, err := io.ReadAll(io.LimitReader(rc, 4096))
		if err != nil {
			return err
		}
		return os.Symlink(string(target), dst)
	}
	perm := mode.Perm()
	if perm == 0 { // zips made without Unix modes
		perm = 0o644
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, rc); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// layers resolves a function's Layers: a !Ref to a local
// AWS::Serverless::LayerVersion (ContentUri) or AWS::Lambda::LayerVersion
// (Content) with a folder or a .zip file, the layer's `sam build` output
// when there is one. A layer ARN or a layer in S3 cannot be fetched
// locally: it is left out with a warning.
func (r *resolver) layers(n *yaml.Node, dir string, warns *[]string) []string {
	n = deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		*warns = append(*warns, fmt.Sprintf("line %d: Layers is not a list; no layer used", n.Line))
		return nil
	}
	var out []string
	for _, item := range n.Content {
		item = deref(item)
		name, arg, ok := intrinsic(item)
		if !ok || name != "Ref" || r.layerRes[deref(arg).Value] == nil {
			v := item.Value
			if ok {
				v = literal(name, arg)
			}
			*warns = append(*warns, fmt.Sprintf("line %d: layer %s is not a layer of this template and cannot be fetched locally; it is left out (give its contents with --layer DIR|ZIP)", item.Line, v))
			continue
		}
		id := deref(arg).Value
		if built := filepath.Join(dir, ".aws-sam", "build", id); exists(built) {
			out = append(out, built)
			continue
		}
		if p, ok := r.layerPath(id, dir, warns); ok {
			out = append(out, p)
		}
	}
	return out
}

// layerPath returns the folder of the template's layer id.
func (r *resolver) layerPath(id, dir string, warns *[]string) (string, bool) {
	props := get(r.layerRes[id], "Properties")
	src := get(props, "ContentUri")
	if src == nil {
		src = get(props, "Content")
	}
	if src == nil || src.Kind == yaml.MappingNode {
		*warns = append(*warns, fmt.Sprintf("layer %s: its content is not a local folder or zip (S3); it is left out (give it with --layer DIR|ZIP)", id))
		return "", false
	}
	uri, _ := r.str(src, warns)
	if strings.HasPrefix(uri, "s3://") {
		*warns = append(*warns, fmt.Sprintf("layer %s: ContentUri %s is in S3; it is left out (give it with --layer DIR|ZIP)", id, uri))
		return "", false
	}
	if !filepath.IsAbs(uri) {
		uri = filepath.Join(dir, uri)
	}
	p, err := LayerDir(uri)
	if err != nil {
		*warns = append(*warns, fmt.Sprintf("layer %s: %v; it is left out", id, err))
		return "", false
	}
	return p, true
}

// Extensions returns the file names of the external extensions the
// function's layers hold (their extensions/ folders, as Lambda starts
// them from /opt/extensions), sorted, each once.
func (d Definition) Extensions() []string {
	seen := map[string]bool{}
	for _, l := range d.Layers {
		ents, _ := os.ReadDir(filepath.Join(l, "extensions"))
		for _, e := range ents {
			if !e.IsDir() {
				seen[e.Name()] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}
