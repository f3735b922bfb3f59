package extension

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lambdabridge/lambdabridge/config"
	"github.com/lambdabridge/lambdabridge/internal/yamlstrict"
	"github.com/lambdabridge/lambdabridge/listen"
	"github.com/lambdabridge/lambdabridge/pushgw"
	"github.com/lambdabridge/lambdabridge/remotewrite"
	"github.com/lambdabridge/lambdabridge/session"
)

// Environment variables the extension reads (a contract: names never change).
const (
	EnvConfig          = "LAMBDABRIDGE_CONFIG"
	EnvRemoteWriteURL  = "LAMBDABRIDGE_REMOTE_WRITE_URL"
	EnvSigV4Region     = "LAMBDABRIDGE_SIGV4_REGION"
	EnvPushgatewayURL  = "LAMBDABRIDGE_PUSHGATEWAY_URL"
	EnvPushgatewayJob  = "LAMBDABRIDGE_PUSHGATEWAY_JOB"
	EnvFlush           = "LAMBDABRIDGE_FLUSH"
	EnvFlushInterval   = "LAMBDABRIDGE_FLUSH_INTERVAL"
	EnvFlushTimeout    = "LAMBDABRIDGE_FLUSH_TIMEOUT"
	EnvDogStatsDPoll   = "LAMBDABRIDGE_DOGSTATSD_POLL"
	EnvEMFAgentPoll    = "LAMBDABRIDGE_EMF_AGENT_POLL"
	EnvDogStatsDAddr   = session.ExtensionDogStatsDVar
	EnvEMFAgentAddr    = session.ExtensionEMFAgentVar
	EnvFunctionName    = "AWS_LAMBDA_FUNCTION_NAME"
	EnvLogStreamName   = "AWS_LAMBDA_LOG_STREAM_NAME"
	EnvArchitecture    = "LAMBDABRIDGE_ARCHITECTURE"
	DefaultConfigPath  = "/opt/lambdabridge/lambdabridge.yaml"
	DefaultFlushPeriod = 10 * time.Second
	// DefaultFlushTimeout bounds the flush at the end of an invocation: a
	// sink that does not answer costs each invocation at most this long
	// (what it holds is delivered later, in the background or at SHUTDOWN).
	DefaultFlushTimeout = time.Second
	DefaultJob          = "lambda"
	// DefaultDogStatsDPoll: the DogStatsD socket is read every 50 ms, and
	// whenever the extension is awake anyway, until its buffer fills.
	DefaultDogStatsDPoll = 50 * time.Millisecond
	// DefaultEMFAgentPoll: the EMF agent's UDP socket too (its TCP
	// connections are read as their lines come).
	DefaultEMFAgentPoll = 50 * time.Millisecond
)

var errNoSink = errors.New("no sink")

// Flush strategies.
const (
	FlushInvocation = "invocation"
	FlushPeriodic   = "periodic"
)

// Config is what the extension runs with.
type Config struct {
	// Flush is FlushInvocation (default) or FlushPeriodic.
	Flush string
	// FlushInterval is the period of FlushPeriodic, and of the sinks'
	// background delivery with FlushInvocation.
	FlushInterval time.Duration
	// FlushTimeout bounds the flush at the end of an invocation.
	FlushTimeout time.Duration
	// DogStatsD and EMFAgent are the loopback addresses served ("none": off).
	DogStatsD, EMFAgent string
	// DogStatsDPoll and EMFAgentPoll are how often the DogStatsD socket and
	// the EMF agent's UDP socket are read while their buffers are not
	// filling (listen.WithPolling); 0: at each datagram.
	DogStatsDPoll, EMFAgentPoll time.Duration
	// Function is the function's name, Instance the environment's id (the
	// lambda_environment label and the Pushgateway's instance).
	Function, Instance string
	// Architecture prices the estimated cost (x86_64 or arm64).
	Architecture string
	// Sinks holds the remote_write and Pushgateway sinks, aggregation and
	// mapping rules (a lambdabridge.yaml without functions).
	Sinks *config.File
	// Source says where the configuration came from, for messages.
	Source string
}

// ExtensionKeys is the `extension:` section of the layer's file; the other
// keys are lambdabridge.yaml's (remote_write, pushgateway, aggregation,
// defaults, mappings).
type ExtensionKeys struct {
	Flush         string        `yaml:"flush"`
	FlushInterval time.Duration `yaml:"flush_interval"`
	FlushTimeout  time.Duration `yaml:"flush_timeout"`
	DogStatsDAddr string        `yaml:"dogstatsd_addr"`
	EMFAgentAddr  string        `yaml:"emf_agent_addr"`
	// DogStatsDPoll and EMFAgentPoll: 0 reads each datagram as it comes.
	DogStatsDPoll *time.Duration `yaml:"dogstatsd_poll"`
	EMFAgentPoll  *time.Duration `yaml:"emf_agent_poll"`
}

// keys of lambdabridge.yaml that describe a local run, not an extension.
var localOnly = []string{"functions", "template", "template_parameters", "runner", "scrape"}

// Load reads the configuration: the file named by LAMBDABRIDGE_CONFIG (or
// /opt/lambdabridge/lambdabridge.yaml when it exists), then the
// LAMBDABRIDGE_* variables, which override it. getenv is os.Getenv in the
// extension; check-config passes its own. The error names the variable or
// the file's line.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		Flush: FlushInvocation, FlushInterval: DefaultFlushPeriod, FlushTimeout: DefaultFlushTimeout,
		DogStatsD: listen.DefaultDogStatsDAddr, EMFAgent: listen.DefaultEMFAddr, DogStatsDPoll: DefaultDogStatsDPoll,
		EMFAgentPoll: DefaultEMFAgentPoll,
		Function:     getenv(EnvFunctionName), Instance: instanceOf(getenv(EnvLogStreamName)),
		Architecture: getenv(EnvArchitecture), Sinks: &config.File{},
	}
	path, explicit := getenv(EnvConfig), true
	if path == "" {
		path, explicit = DefaultConfigPath, false
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		c.Source = path
		if err := c.parseFile(data); err != nil {
			return c, fmt.Errorf("%s: %w", path, err)
		}
	case explicit || !errors.Is(err, os.ErrNotExist):
		return c, fmt.Errorf("%s: %w", EnvConfig, err)
	}
	if err := c.applyEnv(getenv); err != nil {
		return c, err
	}
	return c, c.check()
}

// instanceOf is the extension process's id: the log stream name's part
// after "]" (2026/12/01/[$LATEST]0123abcd... gives 0123abcd...), which
// names the execution environment, and a random suffix: after a crash or
// timeout the environment keeps its log stream but its processes start
// again, and their counters from zero, so they need series of their own.
func instanceOf(stream string) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return StreamID(stream) + "-" + hex.EncodeToString(b[:])
}

// StreamID is the part of a log stream name after "]", which names the
// execution environment.
func StreamID(stream string) string {
	if i := strings.LastIndexByte(stream, ']'); i >= 0 {
		return stream[i+1:]
	}
	return stream
}

// EnvironmentOf is the StreamID of the environment whose extension
// process had the instance (a lambda_environment value): the instance
// without its random suffix.
func EnvironmentOf(instance string) string {
	if i := strings.LastIndexByte(instance, '-'); i >= 0 {
		return instance[:i]
	}
	return instance
}

// parseFile reads the layer's file: its extension: section strictly, and
// the rest as lambdabridge.yaml, with the file's own line numbers (the
// section's lines are blanked, not removed).
func (c *Config) parseFile(data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: the file must be a mapping of keys", root.Line)
	}
	lines := strings.Split(string(data), "\n")
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch {
		case k.Value == "extension":
			if err := c.extensionKeys(v); err != nil {
				return err
			}
			last := len(lines)
			if i+2 < len(root.Content) {
				last = root.Content[i+2].Line - 1
			}
			for l := k.Line - 1; l < last; l++ {
				lines[l] = ""
			}
		case slices.Contains(localOnly, k.Value):
			return fmt.Errorf("line %d: %s describes a local run; the extension reads remote_write, remote_write_interval, pushgateway, aggregation, defaults, mappings and extension", k.Line, k.Value)
		}
	}
	f, err := config.Parse([]byte(strings.Join(lines, "\n")))
	if err != nil {
		return err
	}
	for i, rc := range f.RemoteWrite {
		if rc.SigV4 == nil {
			continue
		}
		if err := remotewrite.CheckInLambda(*rc.SigV4); err != nil {
			return fmt.Errorf("remote_write[%d]: sigv4.%w", i, err)
		}
	}
	c.Sinks = f
	return nil
}

// extensionKeys decodes the extension: section, unknown keys refused.
func (c *Config) extensionKeys(n *yaml.Node) error {
	var k ExtensionKeys
	if err := yamlstrict.Check(n, reflect.TypeFor[ExtensionKeys](), func(reflect.Type) string { return "extension" }); err != nil {
		return fmt.Errorf("extension: %w", err)
	}
	if err := n.Decode(&k); err != nil {
		return fmt.Errorf("extension: %w", err)
	}
	set(&c.Flush, k.Flush)
	set(&c.DogStatsD, k.DogStatsDAddr)
	set(&c.EMFAgent, k.EMFAgentAddr)
	if k.FlushInterval != 0 {
		c.FlushInterval = k.FlushInterval
	}
	if k.FlushTimeout != 0 {
		c.FlushTimeout = k.FlushTimeout
	}
	if k.DogStatsDPoll != nil {
		c.DogStatsDPoll = *k.DogStatsDPoll
	}
	if k.EMFAgentPoll != nil {
		c.EMFAgentPoll = *k.EMFAgentPoll
	}
	return nil
}

func set(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// applyEnv applies the LAMBDABRIDGE_* variables.
func (c *Config) applyEnv(getenv func(string) string) error {
	set(&c.Flush, getenv(EnvFlush))
	set(&c.DogStatsD, getenv(EnvDogStatsDAddr))
	set(&c.EMFAgent, getenv(EnvEMFAgentAddr))
	for name, dst := range map[string]*time.Duration{EnvFlushInterval: &c.FlushInterval, EnvFlushTimeout: &c.FlushTimeout, EnvDogStatsDPoll: &c.DogStatsDPoll, EnvEMFAgentPoll: &c.EMFAgentPoll} {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s=%q: want a duration such as 10s: %w", name, v, err)
			}
			*dst = d
		}
	}
	if u := getenv(EnvRemoteWriteURL); u != "" {
		rc, err := remotewrite.URLConfig(u, getenv(EnvSigV4Region))
		if err != nil {
			return fmt.Errorf("%s: %w", EnvRemoteWriteURL, err)
		}
		c.Sinks.RemoteWrite = append(c.Sinks.RemoteWrite, rc)
	} else if getenv(EnvSigV4Region) != "" {
		return fmt.Errorf("%s is set without %s", EnvSigV4Region, EnvRemoteWriteURL)
	}
	if u := getenv(EnvPushgatewayURL); u != "" {
		job := getenv(EnvPushgatewayJob)
		if job == "" {
			job = DefaultJob
		}
		c.Sinks.Pushgateway = append(c.Sinks.Pushgateway, pushgw.Config{URL: u, Job: job})
	}
	return nil
}

// check refuses what the extension cannot run with.
func (c *Config) check() error {
	switch c.Flush {
	case FlushInvocation, FlushPeriodic:
	default:
		return fmt.Errorf("%s=%q: want invocation or periodic", EnvFlush, c.Flush)
	}
	if c.FlushInterval < time.Second {
		return fmt.Errorf("%s=%s: want 1s or more", EnvFlushInterval, c.FlushInterval)
	}
	if c.FlushTimeout <= 0 {
		return fmt.Errorf("%s=%s: want more than 0", EnvFlushTimeout, c.FlushTimeout)
	}
	for name, d := range map[string]time.Duration{EnvDogStatsDPoll: c.DogStatsDPoll, EnvEMFAgentPoll: c.EMFAgentPoll} {
		if d < 0 || d > time.Second {
			return fmt.Errorf("%s=%s: want 0 (each datagram as it comes) to 1s", name, d)
		}
	}
	if len(c.Sinks.RemoteWrite) == 0 && len(c.Sinks.Pushgateway) == 0 {
		return fmt.Errorf("%w: set %s (with %s for Amazon Managed Prometheus) or %s, or remote_write/pushgateway in %s",
			errNoSink, EnvRemoteWriteURL, EnvSigV4Region, EnvPushgatewayURL, DefaultConfigPath)
	}
	return nil
}

// sessionConfig is the session's configuration: every environment its own
// series, the sinks delivering every FlushInterval (and on Flush), each
// Pushgateway group keyed by the environment.
func (c *Config) sessionConfig() *config.File {
	f := *c.Sinks
	f.Aggregation.PerEnvironment = true
	f.RemoteWriteInterval = c.FlushInterval
	f.Pushgateway = make([]pushgw.Config, len(c.Sinks.Pushgateway))
	for i, pc := range c.Sinks.Pushgateway {
		g := map[string]string{"instance": c.Instance}
		for k, v := range pc.Grouping {
			g[k] = v
		}
		pc.Grouping = g
		pc.Interval = c.FlushInterval
		f.Pushgateway[i] = pc
	}
	return &f
}
