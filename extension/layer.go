package extension

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/lambdabridge/lambdabridge/config"
	"github.com/lambdabridge/lambdabridge/session"
)

// Layer paths: where Lambda finds the extension (/opt/extensions/NAME) and
// where it reads its configuration (/opt/lambdabridge/lambdabridge.yaml).
const (
	LayerBinary = "extensions/" + Name
	LayerConfig = "lambdabridge/lambdabridge.yaml"
	modulePath  = "github.com/lambdabridge/lambdabridge"
	commandPkg  = "./cmd/lambdabridge-extension"
)

// BuildTags are the build tags of the extension's program in a layer:
// lambdabridge_extension leaves the AWS SDK's configuration loader out
// (the remote-write signer resolves credentials as the SDK does in an
// execution environment, from the environment or the container
// credentials endpoint), which saves 1.5-2 ms of CPU at every cold start.
const BuildTags = "lambdabridge_extension"

// goArch maps Lambda's architectures to GOARCH and ELF machines.
var goArch = map[string]struct {
	goarch  string
	machine elf.Machine
}{
	"x86_64": {"amd64", elf.EM_X86_64},
	"arm64":  {"arm64", elf.EM_AARCH64},
}

// HostArch is the Lambda architecture of this machine (x86_64 or arm64),
// for a layer whose extension runs here.
func HostArch() (string, error) {
	for arch, a := range goArch {
		if a.goarch == runtime.GOARCH {
			return arch, nil
		}
	}
	return "", fmt.Errorf("no Lambda architecture for %s", runtime.GOARCH)
}

// Layer describes a layer zip to build.
type Layer struct {
	// Arch is x86_64 or arm64 (Lambda's names).
	Arch string
	// Source is a lambdabridge checkout to build the extension from (go
	// build, cross-compiled, CGO off); Binary, when set, is a built
	// extension used as is (checked: a Linux executable for Arch).
	Source, Binary string
	// Config is a configuration file put in the layer (checked first).
	Config string
	// Version is stamped into the extension (main.version).
	Version string
}

// Build writes the layer zip to w: extensions/lambdabridge-extension and,
// with Config, lambdabridge/lambdabridge.yaml.
func (l Layer) Build(ctx context.Context, w io.Writer) error {
	arch, ok := goArch[l.Arch]
	if !ok {
		return fmt.Errorf("layer: architecture %q: want x86_64 or arm64", l.Arch)
	}
	var cfg []byte
	if l.Config != "" {
		var err error
		if cfg, err = os.ReadFile(l.Config); err != nil {
			return fmt.Errorf("layer: %w", err)
		}
		if err := CheckFile(cfg); err != nil {
			return fmt.Errorf("layer: %s: %w", l.Config, err)
		}
	}
	bin, err := l.binary(ctx, arch.goarch)
	if err != nil {
		return err
	}
	if err := checkELF(bin, arch.machine); err != nil {
		return fmt.Errorf("layer: %w", err)
	}
	return writeZip(w, bin, cfg)
}

// binary returns the extension's executable: Binary, or built from Source.
func (l Layer) binary(ctx context.Context, goarch string) ([]byte, error) {
	if l.Binary != "" {
		b, err := os.ReadFile(l.Binary)
		if err != nil {
			return nil, fmt.Errorf("layer: %w", err)
		}
		return b, nil
	}
	src := l.Source
	if src == "" {
		src = "."
	}
	if mod, err := os.ReadFile(filepath.Join(src, "go.mod")); err != nil || !bytes.HasPrefix(mod, []byte("module "+modulePath+"\n")) {
		return nil, fmt.Errorf("layer: %s is not a lambdabridge checkout (no go.mod of %s): give --source DIR, or --binary FILE built with GOOS=linux GOARCH=%s CGO_ENABLED=0 go build -tags %s %s", src, modulePath, goarch, BuildTags, commandPkg)
	}
	dir, err := os.MkdirTemp("", "lambdabridge-layer-")
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "lambdabridge-extension")
	version := l.Version
	if version == "" {
		version = "dev"
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", BuildTags, "-ldflags=-s -w -X main.version="+version, "-o", out, commandPkg)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("layer: go build %s (GOOS=linux GOARCH=%s): %w\n%s", commandPkg, goarch, err, bytes.TrimSpace(b))
	}
	return os.ReadFile(out)
}

// checkELF checks that b is a Linux executable for machine.
func checkELF(b []byte, machine elf.Machine) error {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("the extension is not a Linux executable: %w", err)
	}
	defer f.Close()
	if f.Machine != machine {
		return fmt.Errorf("the extension is built for %s, the layer is for %s", f.Machine, machine)
	}
	return nil
}

// zipTime is every entry's time, so that one input gives one zip.
var zipTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func writeZip(w io.Writer, bin, cfg []byte) error {
	zw := zip.NewWriter(w)
	add := func(name string, mode os.FileMode, b []byte) error {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipTime}
		h.SetMode(mode)
		f, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		_, err = f.Write(b)
		return err
	}
	err := add(LayerBinary, 0o755, bin)
	if err == nil && cfg != nil {
		err = add(LayerConfig, 0o644, cfg)
	}
	if err != nil {
		return fmt.Errorf("layer: zip: %w", err)
	}
	return zw.Close()
}

// CheckFile checks a layer configuration file as the extension reads it
// (sinks may come from the function's variables: none is required here).
func CheckFile(data []byte) error {
	c := Config{Flush: FlushInvocation, FlushInterval: DefaultFlushPeriod, FlushTimeout: DefaultFlushTimeout, Sinks: &config.File{}}
	if err := c.parseFile(data); err != nil {
		return err
	}
	if err := c.check(); err != nil && !errors.Is(err, errNoSink) {
		return err
	}
	return session.Check(c.sessionConfig())
}

// Check reads the configuration as the extension would, from file (""
// for none) and the variables getenv gives, and checks what the session
// would build (sinks, mapping rules) without sending anything.
func Check(file string, getenv func(string) string) (Config, error) {
	get := getenv
	if file != "" {
		get = func(k string) string {
			if k == EnvConfig {
				return file
			}
			return getenv(k)
		}
	}
	c, err := Load(get)
	if err != nil {
		return c, err
	}
	return c, session.Check(c.sessionConfig())
}

// Describe says in one line what the extension will do.
func (c *Config) Describe() string {
	var sinks []string
	for _, r := range c.Sinks.RemoteWrite {
		s := "remote_write " + redact(r.URL)
		if r.SigV4 != nil {
			s += " (sigv4 " + r.SigV4.Region + ")"
		}
		sinks = append(sinks, s)
	}
	for _, p := range c.Sinks.Pushgateway {
		sinks = append(sinks, "pushgateway "+redact(p.URL)+" job "+p.Job)
	}
	flush := c.Flush
	if c.Flush == FlushPeriodic {
		flush += " every " + c.FlushInterval.String()
	}
	read := func(addr string, poll time.Duration) string {
		switch {
		case addr == "none" || addr == "":
			return ""
		case poll > 0:
			return "read every " + poll.String()
		}
		return "read as datagrams come"
	}
	dsd, emf := c.DogStatsD, c.EMFAgent
	if r := read(dsd, c.DogStatsDPoll); r != "" {
		dsd += " " + r
	}
	if r := read(emf, c.EMFAgentPoll); r != "" {
		emf += " (UDP " + r + ")"
	}
	return fmt.Sprintf("flush %s; DogStatsD %s, EMF agent %s; %s", flush, dsd, emf, strings.Join(sinks, ", "))
}

// redact drops the credentials and query of a URL, for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
