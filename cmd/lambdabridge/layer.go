package main

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/lambdabridge/lambdabridge/extension"
)

const layerBuildUsage = `[--arch x86_64|arm64] [-o layer.zip] [--config FILE] [--source DIR | --binary FILE]

Builds a Lambda layer zip holding lambdabridge as an external extension:
extensions/lambdabridge-extension (cross-compiled from the lambdabridge
checkout --source with GOOS=linux, GOARCH for --arch and CGO_ENABLED=0, or
the prebuilt --binary) and, with --config, lambdabridge/lambdabridge.yaml
(checked first: remote_write, pushgateway, aggregation, mappings and an
extension: section with flush, flush_interval, dogstatsd_addr,
emf_agent_addr). The function's LAMBDABRIDGE_* variables override the file;
'lambdabridge check-config --extension' checks both as the extension reads
them.`

// layerBuildCmd holds the flags of layer build.
type layerBuildCmd struct {
	l   extension.Layer
	out string
}

func registerLayer(c *cli) {
	v := &layerBuildCmd{}
	layer := c.app.Command("layer", "Lambda layers holding lambdabridge as an extension")
	c.runs["layer build"] = v.run
	cmd := layer.Command("build", "build the layer zip of the lambdabridge extension").HelpLong(layerBuildUsage)
	enum(cmd.Flag("arch", "the function's architecture"), &v.l.Arch, "x86_64", "x86_64", "arm64")
	cmd.Flag("output", "the layer zip to write").Short('o').Default("layer.zip").StringVar(&v.out)
	cmd.Flag("config", "a configuration file to put in the layer (/opt/lambdabridge/lambdabridge.yaml)").PlaceHolder("FILE").StringVar(&v.l.Config)
	cmd.Flag("source", "the lambdabridge checkout to build the extension from").Default(".").PlaceHolder("DIR").StringVar(&v.l.Source)
	cmd.Flag("binary", "a built extension (Linux, the layer's architecture) to use instead of building").PlaceHolder("FILE").StringVar(&v.l.Binary)
}

func (v *layerBuildCmd) run(ctx context.Context, m *Main) error {
	v.l.Version = version
	var buf bytes.Buffer
	if err := v.l.Build(ctx, &buf); err != nil {
		return usageErrorf("layer build: %v", err)
	}
	if err := os.WriteFile(v.out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("layer build: %w", err)
	}
	fmt.Fprintf(m.Stdout, "%s: layer for %s, %d bytes: %s", v.out, v.l.Arch, buf.Len(), extension.LayerBinary)
	if v.l.Config != "" {
		fmt.Fprintf(m.Stdout, ", %s", extension.LayerConfig)
	}
	fmt.Fprintln(m.Stdout)
	return nil
}
