package session

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/metric"
)

// A function whose layers hold lambdabridge's extension gets no shared
// agent variables; each of its environments gets the extension's own
// ports, and the datagrams its client sends reach both the session and the
// extension. What the definition sets is kept.
func TestExtensionEnvironmentVars(t *testing.T) {
	layer := t.TempDir()
	if err := os.MkdirAll(filepath.Join(layer, "extensions"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(layer, "extensions", ExtensionName), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var seen pointOrigins
	s, err := New(nil, WithAgents(Agents{DogStatsD: "127.0.0.1:0"}), WithPointHandler(seen.add))
	if err != nil {
		t.Fatal(err)
	}
	defs := s.Apply([]function.Definition{
		{Name: "with", Layers: []string{layer}},
		{Name: "user", Layers: []string{layer}, Env: map[string]string{"DD_AGENT_HOST": "10.1.2.3"}},
		{Name: "without"},
	})
	if _, ok := defs[0].Env["DD_DOGSTATSD_URL"]; ok {
		t.Errorf("the function with the extension got the shared listener: %v", defs[0].Env)
	}
	if _, ok := defs[2].Env["DD_DOGSTATSD_URL"]; !ok {
		t.Errorf("the function without the extension did not get the shared listener: %v", defs[2].Env)
	}
	if got := s.ExtensionFunctions(); !slices.Equal(got, []string{"user", "with"}) {
		t.Errorf("ExtensionFunctions %v", got)
	}
	s.Start(t.Context())
	vars := map[string]string{}
	for _, kv := range s.EnvironmentVars("with", "e1") {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	ext, relay := vars[ExtensionDogStatsDVar], vars["DD_DOGSTATSD_PORT"]
	if ext == "" || relay == "" || strings.HasSuffix(ext, ":"+relay) || vars[ExtensionEMFAgentVar] == "" {
		t.Fatalf("variables %v: want the extension's DogStatsD and EMF ports and a relay port of the session's", vars)
	}
	if user := s.EnvironmentVars("user", "e2"); slices.ContainsFunc(user, func(kv string) bool { return strings.HasPrefix(kv, "DD_AGENT_HOST=") }) {
		t.Errorf("variables %v override the definition's DD_AGENT_HOST", user)
	}
	if s.EnvironmentVars("without", "e3") != nil {
		t.Error("variables for a function without the extension and no per-environment listeners")
	}
	pc, err := net.ListenPacket("udp", ext) // the extension's socket
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c, err := net.Dial("udp", vars["DD_AGENT_HOST"]+":"+relay)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("orders:1|c|#shop:a")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "orders:1|c|#shop:a" {
		t.Fatalf("the extension read %q, %v: want the datagram", buf[:n], err)
	}
	sum := s.Shutdown()
	if sum.Err != nil {
		t.Fatal(sum.Err)
	}
	got := seen.by[metric.FormatDogStatsD]
	if len(got) != 1 || got[0].Function != "with" || got[0].Environment != "e1" {
		t.Errorf("datagram origins %+v, want one from with/e1", got)
	}
}
