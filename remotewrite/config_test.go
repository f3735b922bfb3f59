package remotewrite

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"gopkg.in/yaml.v3"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const pastedConfig = `
remote_write:
  - url: https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-123/api/v1/remote_write
    name: amp
    remote_timeout: 10s
    queue_config:
      max_samples_per_send: 1000
      max_shards: 200
      capacity: 2500
      retry_on_http_429: true
    sigv4:
      region: us-east-1
      role_arn: arn:aws:iam::123456789012:role/prom
    metadata_config:
      send: false
  - url: http://127.0.0.1:8428/api/v1/write
    headers:
      X-Scope-OrgID: tenant
    basic_auth:
      username: u
      password_file: /run/secrets/pw
    tls_config:
      insecure_skip_verify: true
`

func TestParseConfigs(t *testing.T) {
	got, err := ParseConfigs([]byte(pastedConfig))
	if err != nil {
		t.Fatal(err)
	}
	amp := DefaultConfig()
	amp.URL = "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-123/api/v1/remote_write"
	amp.Name = "amp"
	amp.RemoteTimeout = mdur(10 * time.Second)
	amp.QueueConfig.MaxSamplesPerSend = 1000
	amp.QueueConfig.MaxShards = 200
	amp.QueueConfig.Capacity = 2500
	amp.QueueConfig.RetryOnRateLimit = true
	amp.SigV4 = &SigV4Config{Region: "us-east-1", RoleARN: "arn:aws:iam::123456789012:role/prom"}
	vm := DefaultConfig()
	vm.URL = "http://127.0.0.1:8428/api/v1/write"
	vm.Headers = map[string]string{"X-Scope-OrgID": "tenant"}
	vm.BasicAuth = &BasicAuth{Username: "u", PasswordFile: "/run/secrets/pw"}
	vm.TLSConfig.InsecureSkipVerify = true
	want := []Config{amp, vm}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Config{}, "MetadataConfig")); diff != "" {
		t.Errorf("ParseConfigs (-want +got):\n%s", diff)
	}
}

func TestParseConfigsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown top-level key", "global: {}\nremote_write: []", "field global not found"},
		{"unknown entry key", "remote_write:\n- url: http://a\n  urll: x", "line 3: field urll not found in remote_write entry"},
		{"unknown queue key", "remote_write:\n- url: http://a\n  queue_config: {capacityy: 1}", "field capacityy not found in queue_config"},
		{"unknown sigv4 key", "remote_write:\n- url: http://a\n  sigv4: {regio: x}", "field regio not found in sigv4"},
		{"unknown basic_auth key", "remote_write:\n- url: http://a\n  basic_auth: {user: x}", "field user not found in basic_auth"},
		{"relabel", "remote_write:\n- url: http://a\n  write_relabel_configs: [{action: drop}]", "write_relabel_configs: not supported"},
		{"oauth2", "remote_write:\n- url: http://a\n  oauth2: {client_id: x}", "oauth2: not supported"},
		{"reserved header", "remote_write:\n- url: http://a\n  headers: {content-type: x}", `header "content-type" is reserved`},
		{"two auths", "remote_write:\n- url: http://a\n  bearer_token: t\n  sigv4: {region: r}", "at most one of"},
		{"bad duration", "remote_write:\n- url: http://a\n  remote_timeout: 30", "not a valid duration"},
		{"no url", "remote_write:\n- name: x", "url is required"},
		{"bad scheme", "remote_write:\n- url: ftp://a", "scheme must be http or https"},
		{"duplicate name", "remote_write:\n- {url: http://a, name: x}\n- {url: http://b, name: x}", `entries 0 and 1: duplicate name "x"`},
		{"same entry twice", "remote_write:\n- {url: http://a}\n- {url: http://a, remote_timeout: 30s}", "entries 0 and 1 (http://a) are the same apart from secrets"},
		{"only the password differs", "remote_write:\n- {url: http://a, basic_auth: {username: u, password: p1}}\n- {url: http://a, basic_auth: {username: u, password: p2}}",
			"are the same apart from secrets: remove one, or give each its own name"},
		{"half sigv4 keys", "remote_write:\n- url: http://a\n  sigv4: {access_key: AK}", "access_key and secret_key"},
		{"backoffs", "remote_write:\n- url: http://a\n  queue_config: {min_backoff: 10s, max_backoff: 1s}", "min_backoff is larger"},
		{"shards", "remote_write:\n- url: http://a\n  name: x\n  queue_config: {min_shards: 5, max_shards: 2}", "line 4: remote_write[0]: queue_config: min_shards 5 is larger than max_shards 2"},
		{"exemplars", "remote_write:\n- url: http://a\n  send_exemplars: true", "line 3: remote_write[0]: send_exemplars: not supported"},
		{"protobuf message", "remote_write:\n- url: http://a\n  protobuf_message: v3", `line 3: remote_write[0]: protobuf_message "v3": must be`},
		{"metadata key", "remote_write:\n- url: http://a\n  metadata_config: {sendd: true}", "line 3: field sendd not found in metadata_config"},
		{"external label name", "remote_write:\n- url: http://a\n- url: http://b\n  external_labels: {__x: y}", `line 4: remote_write[1]: external_labels: "__x": names starting with __ are reserved`},
		{"external label value", "remote_write:\n- url: http://a\n  external_labels: {a: ''}", `"a" has an empty value`},
		{"not a list", "remote_write: {url: http://a}", "line 1: remote_write: want a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfigs([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseConfigs = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestNotSupportedIsSentinel(t *testing.T) {
	c := DefaultConfig()
	c.URL = "http://a"
	c.WriteRelabelConfigs = []yaml.Node{{}}
	if err := c.Validate(); !errors.Is(err, ErrNotSupported) {
		t.Errorf("Validate = %v, want ErrNotSupported", err)
	}
}

func TestURLConfig(t *testing.T) {
	c, err := URLConfig("https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write", "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	if c.SigV4 == nil || c.SigV4.Region != "eu-west-1" || c.QueueConfig.Capacity != DefaultCapacity || time.Duration(c.RemoteTimeout) != DefaultRemoteTimeout {
		t.Errorf("URLConfig = %+v", c)
	}
	if c, _ := URLConfig("http://127.0.0.1:9090/api/v1/write", ""); c.SigV4 != nil {
		t.Errorf("sigv4 set without a region")
	}
	if _, err := URLConfig("127.0.0.1:9090", ""); err == nil {
		t.Errorf("URLConfig accepted a URL without scheme")
	}
}

func TestSecretNeverPrints(t *testing.T) {
	b := BasicAuth{Username: "u", Password: "hunter2"}
	out, err := yaml.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "hunter2") || strings.Contains(b.Password.String(), "hunter2") {
		t.Errorf("secret printed: %s", out)
	}
}

func FuzzParseConfigs(f *testing.F) {
	f.Add([]byte(pastedConfig))
	f.Add([]byte("remote_write:\n- url: http://a\n  queue_config: {capacity: -1}"))
	f.Add([]byte("remote_write: [{url: 'http://a', sigv4: {}}]"))
	f.Add([]byte("remote_write:\n- &a {url: http://a}\n- *a"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := ParseConfigs(data)
		if err != nil {
			return
		}
		for _, c := range cs {
			if c.Validate() != nil {
				t.Errorf("ParseConfigs returned an invalid config")
			}
		}
	})
}

// TestSameURLTwoEntries: two entries with one URL (Mimir tenants differing
// only by X-Scope-OrgID) failed with "duplicate metrics collector
// registration": their default names hashed the URL alone. They now hash
// the whole entry, as Prometheus does, and both writers deliver.
func TestSameURLTwoEntries(t *testing.T) {
	rc := newReceiver(t)
	doc := "remote_write:\n" +
		"- {url: " + rc.url() + ", headers: {X-Scope-OrgID: tenant-a}, queue_config: {batch_send_deadline: 20ms}}\n" +
		"- {url: " + rc.url() + ", headers: {X-Scope-OrgID: tenant-b}, queue_config: {batch_send_deadline: 20ms}}\n"
	cfgs, err := ParseConfigs([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	var names []string
	for i, c := range cfgs {
		w := newTestWriter(t, c)
		if err := reg.Register(w); err != nil {
			t.Fatalf("register writer %s: %v", w.Name(), err)
		}
		names = append(names, w.Name())
		// the test receiver keeps one store: tenants write at other times
		_ = w.Append(gauges(3, 1), time.UnixMilli(int64(1000*(i+1))))
		if err := flush(t, w); err != nil {
			t.Fatal(err)
		}
	}
	if names[0] == names[1] || len(names[0]) != 12 {
		t.Errorf("remote names %q: want two different 12-digit hashes", names)
	}
	if got := rc.count(); got != 6 {
		t.Errorf("receiver holds %d samples, want 3 per tenant", got)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

func TestRemoteName(t *testing.T) {
	parsed, err := ParseConfigs([]byte("remote_write:\n- url: http://a/w\n"))
	if err != nil {
		t.Fatal(err)
	}
	flag, err := URLConfig("http://a/w", "")
	if err != nil {
		t.Fatal(err)
	}
	sigv4, _ := URLConfig("http://a/w", "eu-west-1")
	secret := flag
	secret.BasicAuth = &BasicAuth{Username: "u", Password: "p"}
	other := secret
	other.BasicAuth = &BasicAuth{Username: "u", Password: "q"}
	named := flag
	named.Name = "amp"
	for _, tc := range []struct {
		name string
		a, b Config
		same bool
	}{
		{"file and flag give one name", parsed[0], flag, true},
		{"defaults applied", Config{URL: "http://a/w"}, flag, true},
		{"sigv4 differs", flag, sigv4, false},
		{"basic auth differs", flag, secret, false},
		{"secrets are not hashed", secret, other, true},
		{"explicit name", named, flag, false},
	} {
		if got := tc.a.RemoteName() == tc.b.RemoteName(); got != tc.same {
			t.Errorf("%s: %q vs %q, want same %v", tc.name, tc.a.RemoteName(), tc.b.RemoteName(), tc.same)
		}
	}
	if named.RemoteName() != "amp" {
		t.Errorf("named entry: %q", named.RemoteName())
	}
}

func TestParseFlagValues(t *testing.T) {
	for _, tc := range []struct {
		in, name, value, err string
		header               bool
	}{
		{in: "cluster=eu", name: "cluster", value: "eu"},
		{in: "__replica__=a", name: "__replica__", value: "a"},
		{in: "a=b=c", name: "a", value: "b=c"},
		{in: "__x=y", err: "reserved"},
		{in: "a-b=c", err: "not a valid label name"},
		{in: "a=", err: "empty value"},
		{in: "novalue", err: "want NAME=VALUE"},
		{in: "X-Scope-OrgID: tenant-1", name: "X-Scope-OrgID", value: "tenant-1", header: true},
		{in: "THANOS-TENANT:t", name: "THANOS-TENANT", value: "t", header: true},
		{in: "User-Agent: x", err: "reserved", header: true},
		{in: "no colon", err: "want 'Name: value'", header: true},
		{in: "two words: x", err: "want 'Name: value'", header: true},
		{in: "X-A: b\r\nEvil: c", err: "want 'Name: value'", header: true},
	} {
		parse := ParseExternalLabel
		if tc.header {
			parse = ParseHeader
		}
		name, value, err := parse(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: err %v, want %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || name != tc.name || value != tc.value):
			t.Errorf("%q: %q %q %v, want %q %q", tc.in, name, value, err, tc.name, tc.value)
		}
	}
}

func FuzzParseFlagValues(f *testing.F) {
	for _, s := range []string{"cluster=eu", "__replica__=a", "X-Scope-OrgID: t", "a", ":", "="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if name, value, err := ParseExternalLabel(s); err == nil {
			if CheckExternalLabels(map[string]string{name: value}) != nil {
				t.Errorf("%q accepted as %q=%q, which CheckExternalLabels refuses", s, name, value)
			}
		}
		if name, value, err := ParseHeader(s); err == nil && (!validHeaderName(name) || reservedHeaders[http.CanonicalHeaderKey(name)] || strings.ContainsAny(value, "\r\n")) {
			t.Errorf("%q accepted as header %q", s, name)
		}
	})
}
