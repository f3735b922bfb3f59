package compare

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/lambdabridge/lambdabridge/compare/analysis"
	"github.com/lambdabridge/lambdabridge/extension"
	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/runner"
)

// The extension strategy: every environment of the function runs the
// lambdabridge extension from a layer built once per run. The extension
// reads the function's log through the runner's Telemetry API, gets the
// DogStatsD datagrams forwarded by the environment's own listener (which
// the function's clients point at), and writes to Prometheus' receiver
// through a counting proxy, with the label strategy="extension".

// startExtension builds the extension's layer, writes the configuration
// every environment's extension reads (remote_write to extRWURL), and adds
// the layer to the function's definition.
func (s *experiment) startExtension(ctx context.Context) error {
	if !s.cfg.has(Extension) {
		return nil
	}
	dir, err := os.MkdirTemp("", "lambdabridge-compare-extension-")
	if err != nil {
		return fmt.Errorf("compare: extension: %w", err)
	}
	s.closers = append(s.closers, func() { os.RemoveAll(dir) })
	from := "the checkout " + cmp.Or(s.cfg.Extension.Source, ".")
	if s.cfg.Extension.Binary != "" {
		from = s.cfg.Extension.Binary
	}
	s.cfg.Progress("building the extension's layer from " + from)
	layer, err := buildLayer(ctx, s.cfg.Extension, dir)
	if err != nil {
		return fmt.Errorf("compare: extension: %w", err)
	}
	data, err := extensionConfig(s.extRWURL, s.cfg)
	if err != nil {
		return fmt.Errorf("compare: extension: %w", err)
	}
	s.extConfig = filepath.Join(dir, "lambdabridge.yaml")
	if err := os.WriteFile(s.extConfig, data, 0o600); err != nil {
		return fmt.Errorf("compare: extension: %w", err)
	}
	defs := slices.Clone(s.cfg.Defs)
	for i := range defs {
		if defs[i].Name == s.cfg.Function {
			defs[i].Layers = append(slices.Clip(defs[i].Layers), layer)
		}
	}
	s.cfg.Defs = defs
	return nil
}

// buildLayer builds the layer zip in dir with l (for the host's
// architecture) and returns the folder the runner mounts at /opt (the
// zip unpacked once per content, as --layer does).
func buildLayer(ctx context.Context, l extension.Layer, dir string) (string, error) {
	arch, err := extension.HostArch()
	if err != nil {
		return "", err
	}
	l.Arch, l.Config = arch, ""
	zip := filepath.Join(dir, "layer.zip")
	f, err := os.Create(zip)
	if err != nil {
		return "", err
	}
	if err := l.Build(ctx, f); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return function.LayerDir(zip)
}

// extensionConfig is the extension's configuration file: remote_write to
// url with the strategy label (and the run's external labels), compare's
// flush strategy. It is checked as the extension reads it.
func extensionConfig(url string, cfg Config) ([]byte, error) {
	rw := map[string]any{"url": url, "name": "compare-extension", "external_labels": map[string]string{Label: string(Extension)}}
	if cfg.SigV4Region != "" {
		rw["sigv4"] = map[string]string{"region": cfg.SigV4Region}
	}
	doc := map[string]any{
		"remote_write": []any{rw},
		"extension":    map[string]string{"flush": cfg.ExtensionFlush, "flush_interval": cfg.ExtensionFlushInterval.String()},
	}
	if len(cfg.ExternalLabels) > 0 {
		doc["global"] = map[string]any{"external_labels": cfg.ExternalLabels}
	}
	data, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	if err := extension.CheckFile(data); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return data, nil
}

// extensionEnv is what an environment's extension reads: compare's
// configuration file and its own DogStatsD address. The function's own
// LAMBDABRIDGE_* sinks and flush settings are cleared: in a comparison the
// extension delivers only to compare's Prometheus.
func (s *experiment) extensionEnv(dogstatsd string) []string {
	return []string{
		extension.EnvConfig + "=" + s.extConfig,
		extension.EnvDogStatsDAddr + "=" + dogstatsd,
		extension.EnvEMFAgentAddr + "=none",
		extension.EnvRemoteWriteURL + "=", extension.EnvSigV4Region + "=", extension.EnvPushgatewayURL + "=",
		extension.EnvFlush + "=", extension.EnvFlushInterval + "=", extension.EnvFlushTimeout + "=",
	}
}

// extensionAdded records the time the extension added to an invocation:
// from the runtime's answer to the end of the invoke phase, when the
// runtime and the extension had both asked for their next event (what
// Lambda bills). Invocations the runtime did not answer are left out.
func (s *experiment) extensionAdded(res *runner.Result) {
	if !s.cfg.has(Extension) || res.RuntimeDuration <= 0 || res.Duration < res.RuntimeDuration {
		return
	}
	d := analysis.Delivery{Invocation: res.RuntimeDuration, Took: res.Duration - res.RuntimeDuration}
	s.obsMu.Lock()
	s.deliveries[Extension] = append(s.deliveries[Extension], d)
	s.obsMu.Unlock()
}

// extensionNote says what the extension strategy changes for the others.
func extensionNote(cfg Config) string {
	flush := cfg.ExtensionFlush
	if flush == extension.FlushPeriodic {
		flush += " every " + cfg.ExtensionFlushInterval.String()
	}
	return "extension: every environment ran the lambdabridge extension (flush " + flush + "); its added time is part of every invocation's duration above, whichever strategy is read"
}

// extensionEnvs maps the lambda_environment values of the extension's
// series present (an extension process's instance: the environment's log
// stream id and a random suffix) to compare's environment ids.
func (s *experiment) extensionEnvs(present []map[string]string) map[string]string {
	byStream := map[string]string{}
	for _, e := range s.environments() {
		e.mu.Lock()
		if e.stream != "" {
			byStream[extension.StreamID(e.stream)] = e.id
		}
		e.mu.Unlock()
	}
	out := map[string]string{}
	for _, ls := range present {
		v := ls[Extension.envLabel()]
		if id, ok := byStream[extension.EnvironmentOf(v)]; ok && v != "" {
			out[v] = id
		}
	}
	return out
}
