package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, doc string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", `
functions:
  - {name: orders, handler: bootstrap, memory: 256, timeout: 2s}
scrape: {listen: 127.0.0.1:9464}
remote_write:
  - url: http://127.0.0.1:9090/api/v1/write
    queue_config: {capacity: 100}
pushgateway:
  - {url: http://127.0.0.1:9091, job: orders}
mappings:
  - {match: "a.*", name: "a_$1"}
`)
	for _, tt := range []struct {
		name, doc string
		code      int
		want      string
	}{
		{"valid", "", 0, "valid: 1 functions, 1 remote_write, 1 pushgateway, /metrics on 127.0.0.1:9464"},
		{"unknown key", "scrape: {listen: x, prot: 1}\n", 2, "prot not found"},
		{"missing handler", "functions:\n  - {name: x, handler: nothere}\n", 2, "nothere"},
		{"bad mapping", "mappings:\n  - {match: \"a.*\", nmae: x}\n", 2, "line 2: field nmae not found"},
		{"bad remote_write", "remote_write:\n  - url: ftp://x\n", 2, "remote_write"},
		{"shards", "remote_write:\n  - url: http://a\n    queue_config:\n      min_shards: 4\n      max_shards: 2\n", 2, "line 3: remote_write[0]: queue_config: min_shards 4 is larger than max_shards 2"},
		{"exemplars", "remote_write:\n  - url: http://a\n    send_exemplars: true\n", 2, "line 3: remote_write[0]: send_exemplars: not supported"},
		{"global", "global:\n  scrape_interval: 1m\n", 2, "line 2: field scrape_interval not found in global"},
		{"external labels", "global:\n  external_labels: {cluster: eu, __replica__: a}\nremote_write:\n  - {url: http://a, protobuf_message: io.prometheus.write.v2.Request, external_labels: {bridge: b}}\n", 0, "valid"},
		{"non-loopback scrape", "scrape: {listen: 0.0.0.0:9464}\n", 2, "not a loopback address"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := good
			if tt.doc != "" {
				path = write(strings.ReplaceAll(tt.name, " ", "-")+".yaml", tt.doc)
			}
			out, errOut, code := runCmd(t, "", "check-config", path)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d, want %d; output:\n%s%s\nwant it to contain %q", code, tt.code, out, errOut, tt.want)
			}
		})
	}
	if _, _, code := runCmd(t, "", "check-config"); code != 2 {
		t.Errorf("check-config without a file: exit %d, want 2", code)
	}
}
