package extension

import (
	"cmp"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	amp := "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"
	tests := []struct {
		name string
		env  map[string]string
		want string // Describe, or the error
	}{
		{"remote write by variables", map[string]string{EnvRemoteWriteURL: amp, EnvSigV4Region: "eu-west-1"},
			"flush invocation; DogStatsD 127.0.0.1:8125 read every 50ms, EMF agent 127.0.0.1:25888 (UDP read every 50ms); remote_write " + amp + " (sigv4 eu-west-1)"},
		{"pushgateway, periodic", map[string]string{EnvPushgatewayURL: "http://u:secret@127.0.0.1:9091?x=1", EnvFlush: "periodic", EnvFlushInterval: "30s", EnvDogStatsDAddr: "none"},
			"flush periodic every 30s; DogStatsD none, EMF agent 127.0.0.1:25888 (UDP read every 50ms); pushgateway http://127.0.0.1:9091 job lambda"},
		{"DogStatsD read as datagrams come", map[string]string{EnvRemoteWriteURL: amp, EnvDogStatsDPoll: "0"},
			"flush invocation; DogStatsD 127.0.0.1:8125 read as datagrams come, EMF agent 127.0.0.1:25888 (UDP read every 50ms);"},
		{"EMF agent read as datagrams come", map[string]string{EnvRemoteWriteURL: amp, EnvEMFAgentPoll: "0", EnvEMFAgentAddr: "none"},
			"flush invocation; DogStatsD 127.0.0.1:8125 read every 50ms, EMF agent none;"},
		{"file, a variable overriding it", map[string]string{EnvConfig: file("a.yaml", "extension:\n  flush: periodic\n  flush_interval: 5s\nremote_write:\n  - url: http://127.0.0.1:9090/api/v1/write\n"), EnvFlush: "invocation"},
			"flush invocation; DogStatsD 127.0.0.1:8125 read every 50ms, EMF agent 127.0.0.1:25888 (UDP read every 50ms); remote_write http://127.0.0.1:9090/api/v1/write"},
		{"no sink", nil, "error: no sink: set LAMBDABRIDGE_REMOTE_WRITE_URL"},
		{"region without URL", map[string]string{EnvSigV4Region: "eu-west-1"}, "error: LAMBDABRIDGE_SIGV4_REGION is set without LAMBDABRIDGE_REMOTE_WRITE_URL"},
		{"bad interval", map[string]string{EnvRemoteWriteURL: amp, EnvFlushInterval: "10"}, `error: LAMBDABRIDGE_FLUSH_INTERVAL="10": want a duration`},
		{"short interval", map[string]string{EnvRemoteWriteURL: amp, EnvFlushInterval: "100ms"}, "error: LAMBDABRIDGE_FLUSH_INTERVAL=100ms: want 1s or more"},
		{"unknown key in extension", map[string]string{EnvConfig: file("b.yaml", "extension:\n  flush_every: 5s\n")}, "error: " + dir + "/b.yaml: extension: line 2: field flush_every not found in extension"},
		{"a local run's key", map[string]string{EnvConfig: file("c.yaml", "remote_write:\n  - url: http://x/\nfunctions:\n  - handler: x\n")}, "error: " + dir + "/c.yaml: line 3: functions describes a local run"},
		{"a profile", map[string]string{EnvConfig: file("e.yaml", "remote_write:\n  - url: http://x/\n    sigv4: {region: eu-west-1, profile: prom}\n")}, "error: " + dir + `/e.yaml: remote_write[0]: sigv4.profile "prom": an execution environment has no shared configuration files`},
		{"bad remote_write", map[string]string{EnvConfig: file("d.yaml", "remote_write:\n  - url: http://x/\n    oauth2: {}\n")}, "error: " + dir + "/d.yaml: line 3: remote_write[0]: oauth2: not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(func(k string) string { return tc.env[k] })
			got := ""
			if err != nil {
				got = "error: " + err.Error()
			} else {
				got = c.Describe()
			}
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("got  %q\nwant %q...", got, tc.want)
			}
		})
	}
}

// TestDogStatsDPoll: LAMBDABRIDGE_DOGSTATSD_POLL (or the file's
// dogstatsd_poll, where 0 is a value, not an absent key) sets how often the
// DogStatsD socket is read; 0 reads each datagram as it comes. The EMF
// agent's UDP socket has its own setting, LAMBDABRIDGE_EMF_AGENT_POLL
// (emf_agent_poll), with the same rules.
func TestDogStatsDPoll(t *testing.T) {
	dir := t.TempDir()
	zero := filepath.Join(dir, "zero.yaml")
	if err := os.WriteFile(zero, []byte("extension:\n  dogstatsd_poll: 0s\n  emf_agent_poll: 0s\nremote_write:\n  - url: http://127.0.0.1:9090/api/v1/write\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env  map[string]string
		want time.Duration
		emf  *time.Duration // nil: as want
		err  string
	}{
		{env: map[string]string{EnvEMFAgentPoll: "0"}, want: DefaultDogStatsDPoll, emf: new(time.Duration(0))},
		{env: map[string]string{EnvConfig: zero, EnvEMFAgentPoll: "200ms"}, want: 0, emf: new(200 * time.Millisecond)},
		{env: map[string]string{EnvEMFAgentPoll: "2s"}, err: "LAMBDABRIDGE_EMF_AGENT_POLL=2s: want 0 (each datagram as it comes) to 1s"},
		{env: nil, want: DefaultDogStatsDPoll},
		{env: map[string]string{EnvDogStatsDPoll: "0"}, want: 0},
		{env: map[string]string{EnvDogStatsDPoll: "20ms"}, want: 20 * time.Millisecond},
		{env: map[string]string{EnvConfig: zero}, want: 0, emf: new(time.Duration(0))},
		{env: map[string]string{EnvConfig: zero, EnvDogStatsDPoll: "100ms"}, want: 100 * time.Millisecond, emf: new(time.Duration(0))},
		{env: map[string]string{EnvDogStatsDPoll: "-1s"}, err: "LAMBDABRIDGE_DOGSTATSD_POLL=-1s: want 0 (each datagram as it comes) to 1s"},
		{env: map[string]string{EnvDogStatsDPoll: "2s"}, err: "LAMBDABRIDGE_DOGSTATSD_POLL=2s: want 0 (each datagram as it comes) to 1s"},
		{env: map[string]string{EnvDogStatsDPoll: "often"}, err: `LAMBDABRIDGE_DOGSTATSD_POLL="often": want a duration`},
	} {
		env := map[string]string{EnvRemoteWriteURL: "http://127.0.0.1:9090/api/v1/write"}
		maps.Copy(env, tc.env)
		c, err := Load(func(k string) string { return env[k] })
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%v: err %v, want %q", tc.env, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%v: %v", tc.env, err)
		case tc.err == "" && c.DogStatsDPoll != tc.want:
			t.Errorf("%v: DogStatsDPoll %v, want %v", tc.env, c.DogStatsDPoll, tc.want)
		case tc.err == "" && c.EMFAgentPoll != *cmp.Or(tc.emf, new(DefaultEMFAgentPoll)):
			t.Errorf("%v: EMFAgentPoll %v, want %v", tc.env, c.EMFAgentPoll, *cmp.Or(tc.emf, new(DefaultEMFAgentPoll)))
		}
	}
}

func TestSessionConfig(t *testing.T) {
	c, err := Load(func(k string) string {
		return map[string]string{EnvPushgatewayURL: "http://127.0.0.1:9091", EnvLogStreamName: "2026/12/01/[$LATEST]0123abcd", EnvFlush: "periodic", EnvFlushInterval: "2s"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	f := c.sessionConfig()
	if !f.Aggregation.PerEnvironment || f.RemoteWriteInterval != 2*time.Second {
		t.Errorf("aggregation %+v, remote_write interval %v: want per environment, 2s", f.Aggregation, f.RemoteWriteInterval)
	}
	if g := f.Pushgateway[0].Grouping; len(g) != 1 || !strings.HasPrefix(g["instance"], "0123abcd-") || len(g["instance"]) != len("0123abcd-")+6 {
		t.Errorf("grouping %v: want instance=0123abcd-<6 hex digits>", g)
	}
	if c.Sinks.Pushgateway[0].Grouping != nil {
		t.Error("sessionConfig changed the configuration it was made from")
	}
}

// TestEnvironmentOfInstance checks that an extension process's instance
// (the lambda_environment label) names its environment's log stream.
func TestEnvironmentOfInstance(t *testing.T) {
	tests := []struct{ stream, id string }{
		{"2026/12/01/[$LATEST]0123abcd", "0123abcd"},
		{"2026/12/01/[3]ab-cd", "ab-cd"},
		{"no-brackets", "no-brackets"},
		{"", ""},
	}
	for _, tt := range tests {
		inst := instanceOf(tt.stream)
		if got := StreamID(tt.stream); got != tt.id {
			t.Errorf("StreamID(%q) = %q, want %q", tt.stream, got, tt.id)
		}
		if got := EnvironmentOf(inst); got != tt.id {
			t.Errorf("EnvironmentOf(%q) = %q, want %q (stream %q)", inst, got, tt.id, tt.stream)
		}
	}
}
