package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const full = `
functions:
  - name: orders
    handler: ./bootstrap
    memory: 256
    timeout: 1500ms
    architecture: arm64
    env: {STAGE: dev}
runner:
  concurrency: 4
  idle_timeout: 5m
aggregation:
  per_environment: true
  max_series: 1000
scrape:
  listen: 127.0.0.1:9464
remote_write:
  - url: https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write
    sigv4:
      region: eu-west-1
    queue_config:
      capacity: 5000
  - url: http://127.0.0.1:8428/api/v1/write
pushgateway:
  - url: http://127.0.0.1:9091
    job: orders
    method: post
    delete_on_end: true
mappings:
  - match: "shop.*.orders"
    name: shop_orders
    labels:
      region: "$1"
`

func TestParse(t *testing.T) {
	f, err := Parse([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Functions) != 1 || f.Functions[0].MemoryMB != 256 || f.Runner.Concurrency != 4 || f.Runner.IdleTimeout != 5*time.Minute {
		t.Errorf("functions/runner = %+v %+v", f.Functions, f.Runner)
	}
	if len(f.RemoteWrite) != 2 || f.RemoteWrite[0].SigV4 == nil || f.RemoteWrite[0].SigV4.Region != "eu-west-1" {
		t.Fatalf("remote_write = %+v", f.RemoteWrite)
	}
	if len(f.Pushgateway) != 1 || f.Pushgateway[0].Job != "orders" || !f.Aggregation.PerEnvironment {
		t.Errorf("pushgateway/aggregation = %+v %+v", f.Pushgateway, f.Aggregation)
	}
	if !strings.Contains(string(f.Mappings), "shop.*.orders") {
		t.Errorf("mappings not kept: %s", f.Mappings)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ doc, want string }{
		{"scrape:\n  listen: x\n  port: 1\n", "line 3: field port not found"},
		{"remote_write:\n  - url: http://x\n    bogus: 1\n", "bogus"},
		{"functions:\n  - name: a\n", "handler is required"},
		{"functions:\n  - handler: ./b\n    timeout: forever\n", "timeout"},
		{"unknown_top: 1\n", "field unknown_top not found"},
	} {
		_, err := Parse([]byte(tt.doc))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v, want it to contain %q", tt.doc, err, tt.want)
		}
	}
}

func TestDefinitionsRelativeToFile(t *testing.T) {
	dir := t.TempDir()
	boot := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(boot, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "lambdabridge.yaml")
	if err := os.WriteFile(path, []byte("functions:\n  - name: fn\n    handler: bootstrap\n    timeout: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defs, err := f.Definitions()
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != 1 || defs[0].Name != "fn" || defs[0].Timeout != 2*time.Second || defs[0].Command[0] != boot {
		t.Errorf("defs = %+v", defs)
	}
}

func TestMapper(t *testing.T) {
	f, err := Parse([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	if m, err := f.Mapper(); err != nil || m == nil {
		t.Fatalf("Mapper() = %v, %v; want the file's rules", m, err)
	}
	bad, err := Parse([]byte("mappings:\n  - match: \"a.*\"\n    name: x\n    bogus: 1\n"))
	if err == nil {
		_, err = bad.Mapper()
	}
	if err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("bad mapping error = %v, want it to name the unknown key", err)
	}
}

// TestExternalLabels: Prometheus' `global: external_labels:` and each
// remote_write entry's own, HA labels included; bad ones refused with their
// line.
func TestExternalLabels(t *testing.T) {
	f, err := Parse([]byte("global:\n  external_labels: {cluster: eu, __replica__: a}\nremote_write:\n- url: http://a\n  external_labels: {bridge: one}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.ExternalLabels["cluster"] != "eu" || f.ExternalLabels["__replica__"] != "a" || f.RemoteWrite[0].ExternalLabels["bridge"] != "one" {
		t.Errorf("external labels %v, entry %v", f.ExternalLabels, f.RemoteWrite[0].ExternalLabels)
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"scrape_interval", "global:\n  scrape_interval: 15s\n", "line 2: field scrape_interval not found in global (only external_labels applies to lambdabridge)"},
		{"reserved name", "functions: []\nglobal:\n  external_labels:\n    __name__: x\n", `line 4: global.external_labels: "__name__": names starting with __ are reserved`},
		{"bad name", "global:\n  external_labels: {a-b: x}\n", `line 2: global.external_labels: "a-b" is not a valid label name`},
		{"entry", "remote_write:\n- url: http://a\n  queue_config:\n    min_shards: 3\n    max_shards: 1\n", "line 3: remote_write[0]: queue_config: min_shards 3 is larger than max_shards 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %v, want %q", err, tc.want)
			}
		})
	}
}
