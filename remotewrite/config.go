package remotewrite

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/lambdabridge/lambdabridge/internal/yamlstrict"
)

// Config is one entry of a `remote_write:` list, in Prometheus' own syntax, so
// that a user can paste the block from prometheus.yml. Fields Prometheus has but
// lambdabridge does not implement are rejected with a "not supported" error
// rather than silently ignored: every key either works or is refused.
type Config struct {
	URL           string            `yaml:"url"`
	Name          string            `yaml:"name,omitempty"`
	RemoteTimeout model.Duration    `yaml:"remote_timeout,omitempty"`
	Headers       map[string]string `yaml:"headers,omitempty"`

	// SendNativeHistograms sends histograms that carry native (sparse) buckets
	// as prompb.Histogram; the receiver must accept them. Otherwise every
	// histogram goes out as classic _bucket/_sum/_count series.
	SendNativeHistograms bool `yaml:"send_native_histograms,omitempty"`

	BasicAuth       *BasicAuth     `yaml:"basic_auth,omitempty"`
	Authorization   *Authorization `yaml:"authorization,omitempty"`
	BearerToken     Secret         `yaml:"bearer_token,omitempty"`
	BearerTokenFile string         `yaml:"bearer_token_file,omitempty"`
	TLSConfig       TLSConfig      `yaml:"tls_config,omitempty"`
	SigV4           *SigV4Config   `yaml:"sigv4,omitempty"`
	QueueConfig     QueueConfig    `yaml:"queue_config,omitempty"`

	// ExternalLabels are added to every series of this entry that lacks them
	// (a lambdabridge extension of Prometheus' entry; they override the
	// global external_labels given with WithExternalLabels). HA pairs use
	// `cluster` and `__replica__`.
	ExternalLabels map[string]string `yaml:"external_labels,omitempty"`

	// FollowRedirects (default true) follows 3xx replies; EnableHTTP2
	// (default true) tries HTTP/2 over TLS.
	FollowRedirects *bool `yaml:"follow_redirects,omitempty"`
	EnableHTTP2     *bool `yaml:"enable_http2,omitempty"`
	// SendExemplars must stay false: the aggregation keeps no exemplars.
	SendExemplars  bool           `yaml:"send_exemplars,omitempty"`
	MetadataConfig MetadataConfig `yaml:"metadata_config,omitempty"`
	// ProtobufMessage is prometheus.WriteRequest (Remote Write 1.0, the
	// default) or io.prometheus.write.v2.Request (Remote Write 2.0, falling
	// back to 1.0 when the receiver answers 415).
	ProtobufMessage string `yaml:"protobuf_message,omitempty"`

	// Recognised so that pasting them gives a clear error instead of "unknown field".
	WriteRelabelConfigs []yaml.Node `yaml:"write_relabel_configs,omitempty"`
	OAuth2              *yaml.Node  `yaml:"oauth2,omitempty"`
	AzureAD             *yaml.Node  `yaml:"azuread,omitempty"`
	GoogleIAM           *yaml.Node  `yaml:"google_iam,omitempty"`
	ProxyURL            string      `yaml:"proxy_url,omitempty"`
}

// The protobuf_message values.
const (
	MessageV1 = "prometheus.WriteRequest"
	MessageV2 = "io.prometheus.write.v2.Request"
)

// MetadataConfig is Prometheus' metadata_config: with Send (the default)
// every family's type, help and unit go to the receiver every SendInterval
// (default 1m) in requests of at most MaxSamplesPerSend entries (default
// 2000) with Remote Write 1.0, and with every series in Remote Write 2.0.
type MetadataConfig struct {
	Send              *bool          `yaml:"send,omitempty"` // nil: true
	SendInterval      model.Duration `yaml:"send_interval,omitempty"`
	MaxSamplesPerSend int            `yaml:"max_samples_per_send,omitempty"`
}

// UnmarshalYAML keeps the defaults for keys that are absent.
func (m *MetadataConfig) UnmarshalYAML(n *yaml.Node) error {
	if err := yamlstrict.Check(n, reflect.TypeFor[MetadataConfig](), yamlTypeName); err != nil {
		return err
	}
	*m = DefaultConfig().MetadataConfig
	type plain MetadataConfig
	return n.Decode((*plain)(m))
}

// QueueConfig mirrors Prometheus' queue_config. Capacity is how many samples
// wait in arrival order; beyond it, a new sample of a series that already has
// one waiting replaces it (coalesced, counted, never dropped), so the queue
// holds at most capacity plus one sample per series. Samples are sent by
// between MinShards and MaxShards parallel senders (shards), resharded as
// Prometheus does from the incoming rate and the time a send takes; each
// series always goes through the same shard, in order.
type QueueConfig struct {
	Capacity          int            `yaml:"capacity,omitempty"`
	MaxShards         int            `yaml:"max_shards,omitempty"`
	MinShards         int            `yaml:"min_shards,omitempty"`
	MaxSamplesPerSend int            `yaml:"max_samples_per_send,omitempty"`
	BatchSendDeadline model.Duration `yaml:"batch_send_deadline,omitempty"`
	MinBackoff        model.Duration `yaml:"min_backoff,omitempty"`
	MaxBackoff        model.Duration `yaml:"max_backoff,omitempty"`
	RetryOnRateLimit  bool           `yaml:"retry_on_http_429,omitempty"`
	SampleAgeLimit    model.Duration `yaml:"sample_age_limit,omitempty"`
}

// BasicAuth is Prometheus' basic_auth block.
type BasicAuth struct {
	Username     string `yaml:"username"`
	UsernameFile string `yaml:"username_file,omitempty"`
	Password     Secret `yaml:"password,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
}

// Authorization is Prometheus' authorization block (type defaults to Bearer).
type Authorization struct {
	Type            string `yaml:"type,omitempty"`
	Credentials     Secret `yaml:"credentials,omitempty"`
	CredentialsFile string `yaml:"credentials_file,omitempty"`
}

// TLSConfig is Prometheus' tls_config block.
type TLSConfig struct {
	CAFile             string `yaml:"ca_file,omitempty"`
	CertFile           string `yaml:"cert_file,omitempty"`
	KeyFile            string `yaml:"key_file,omitempty"`
	ServerName         string `yaml:"server_name,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty"`
}

// SigV4Config is Prometheus' sigv4 block. Without AccessKey/SecretKey the AWS
// SDK default credential chain is used (environment, shared config and
// credentials files with Profile, web identity); RoleARN is then assumed
// through STS. ServiceName defaults to "aps" (Amazon Managed Prometheus).
type SigV4Config struct {
	Region      string `yaml:"region,omitempty"`
	AccessKey   string `yaml:"access_key,omitempty"`
	SecretKey   Secret `yaml:"secret_key,omitempty"`
	Profile     string `yaml:"profile,omitempty"`
	RoleARN     string `yaml:"role_arn,omitempty"`
	ExternalID  string `yaml:"external_id,omitempty"`
	ServiceName string `yaml:"service_name,omitempty"`
}

// Secret is a string that never prints: fmt and YAML show "<secret>".
type Secret string

// String hides the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<secret>"
}

// MarshalYAML hides the secret.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// Prometheus' defaults for a remote_write entry.
const (
	DefaultRemoteTimeout     = 30 * time.Second
	DefaultCapacity          = 10000
	DefaultMaxSamplesPerSend = 2000
	DefaultMinShards         = 1
	DefaultMaxShards         = 50
	DefaultBatchSendDeadline = 5 * time.Second
	DefaultMinBackoff        = 30 * time.Millisecond
	DefaultMaxBackoff        = 5 * time.Second
	DefaultSigV4Service      = "aps"
	DefaultMetadataInterval  = time.Minute
	DefaultMetadataPerSend   = 2000
)

// DefaultConfig returns a Config holding Prometheus' defaults and no URL.
func DefaultConfig() Config {
	return Config{
		RemoteTimeout: model.Duration(DefaultRemoteTimeout),
		MetadataConfig: MetadataConfig{
			Send:              boolPtr(true),
			SendInterval:      model.Duration(DefaultMetadataInterval),
			MaxSamplesPerSend: DefaultMetadataPerSend,
		},
		QueueConfig: QueueConfig{
			Capacity:          DefaultCapacity,
			MinShards:         DefaultMinShards,
			MaxShards:         DefaultMaxShards,
			MaxSamplesPerSend: DefaultMaxSamplesPerSend,
			BatchSendDeadline: model.Duration(DefaultBatchSendDeadline),
			MinBackoff:        model.Duration(DefaultMinBackoff),
			MaxBackoff:        model.Duration(DefaultMaxBackoff),
		},
	}
}

// URLConfig builds the Config behind `--remote-write URL [--sigv4-region R]`:
// Prometheus' defaults, and SigV4 with the default credential chain when
// sigv4Region is not empty.
func URLConfig(rawURL, sigv4Region string) (Config, error) {
	c := DefaultConfig()
	c.URL = rawURL
	if sigv4Region != "" {
		c.SigV4 = &SigV4Config{Region: sigv4Region}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// UnmarshalYAML applies Prometheus' defaults, then decodes strictly: unknown
// keys are errors even when the caller's decoder is not strict.
func (c *Config) UnmarshalYAML(n *yaml.Node) error {
	if err := yamlstrict.Check(n, reflect.TypeFor[Config](), yamlTypeName); err != nil {
		return err
	}
	*c = DefaultConfig()
	type plain Config
	if err := n.Decode((*plain)(c)); err != nil {
		return err
	}
	return nil
}

// UnmarshalYAML keeps queue defaults for keys that are absent.
func (q *QueueConfig) UnmarshalYAML(n *yaml.Node) error {
	if err := yamlstrict.Check(n, reflect.TypeFor[QueueConfig](), yamlTypeName); err != nil {
		return err
	}
	if *q == (QueueConfig{}) {
		*q = DefaultConfig().QueueConfig
	}
	type plain QueueConfig
	return n.Decode((*plain)(q))
}

// ParseConfigs decodes a YAML document holding a `remote_write:` list (other
// top-level keys are errors) and validates every entry (DecodeConfigs).
func ParseConfigs(data []byte) ([]Config, error) {
	var doc struct {
		RemoteWrite yaml.Node `yaml:"remote_write"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse remote_write config: %w", err)
	}
	cfgs, err := DecodeConfigs(&doc.RemoteWrite)
	if err != nil {
		return nil, fmt.Errorf("parse remote_write config: %w", err)
	}
	return cfgs, nil
}

// DecodeConfigs decodes and validates the entries of a `remote_write:` list
// node, strictly; an error names the line of the key at fault (or of the
// entry) and the entry's index: "line 7: remote_write[1]: queue_config: ...".
func DecodeConfigs(n *yaml.Node) ([]Config, error) {
	if n.Kind == 0 || n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("line %d: remote_write: want a list of entries", n.Line)
	}
	cfgs := make([]Config, len(n.Content))
	for i, item := range n.Content {
		if err := item.Decode(&cfgs[i]); err != nil {
			return nil, fmt.Errorf("remote_write[%d]: %w", i, err)
		}
		if err := cfgs[i].Validate(); err != nil {
			return nil, fmt.Errorf("line %d: remote_write[%d]: %w", errLine(item, err), i, err)
		}
	}
	if err := CheckNames(cfgs); err != nil {
		return nil, fmt.Errorf("line %d: remote_write: %w", n.Line, err)
	}
	return cfgs, nil
}

// errLine is the line of the entry's key a validation error starts with
// ("queue_config: ...", "header ...": headers), or the entry's line.
func errLine(entry *yaml.Node, err error) int {
	word := err.Error()
	if i := strings.IndexAny(word, ": "); i > 0 {
		word = word[:i]
	}
	if word == "header" {
		word = "headers"
	}
	for i := 0; i+1 < len(entry.Content); i += 2 {
		if entry.Content[i].Value == word {
			return entry.Content[i].Line
		}
	}
	return entry.Line
}

// RemoteName is the value of the "remote" label of the entry's writer: its
// name, or, as Prometheus names an unnamed entry, the first 6 bytes (12 hex
// digits) of a SHA-256 of the whole entry with its defaults applied. Two
// entries with one URL but other headers (Mimir tenants: X-Scope-OrgID),
// sigv4 settings or queue settings get different names. Secrets (passwords,
// tokens, the sigv4 secret key) are left out of the hash, as Prometheus
// leaves them out.
func (c Config) RemoteName() string {
	if c.Name != "" {
		return c.Name
	}
	b, err := yaml.Marshal(c.withDefaults()) // Secret marshals as "<secret>"
	if err != nil {
		b = []byte(c.URL) // cannot happen: Config marshals
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:6])
}

// CheckNames refuses entries whose writers would share a "remote" label
// (their metrics would collide): two entries with one name, or two unnamed
// entries that are the same (secrets aside), as Prometheus refuses them.
// Entries that differ in anything else, one URL included, are fine.
func CheckNames(cfgs []Config) error {
	if len(cfgs) < 2 {
		return nil // nothing to collide with: no hash to compute (RemoteName's YAML costs a cold start 0.1-0.5 ms)
	}
	seen := map[string]int{}
	for i, c := range cfgs {
		name := c.RemoteName()
		j, dup := seen[name]
		switch {
		case !dup:
			seen[name] = i
		case c.Name != "":
			return fmt.Errorf("entries %d and %d: duplicate name %q: each remote_write entry needs its own name", j, i, c.Name)
		default:
			return fmt.Errorf("entries %d and %d (%s) are the same apart from secrets: remove one, or give each its own name", j, i, redactURL(mustParse(c.URL)))
		}
	}
	return nil
}

func mustParse(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		return &url.URL{}
	}
	return u
}

// ErrNotSupported is wrapped by Validate for Prometheus options lambdabridge
// does not implement.
var ErrNotSupported = errors.New("not supported")

// reservedHeaders are set by the writer and may not be configured (the same
// list Prometheus refuses).
var reservedHeaders = map[string]bool{
	"Authorization":                     true,
	"Host":                              true,
	"Content-Encoding":                  true,
	"Content-Length":                    true,
	"Content-Type":                      true,
	"X-Prometheus-Remote-Write-Version": true,
	"User-Agent":                        true,
	"Connection":                        true,
	"Keep-Alive":                        true,
	"Proxy-Authenticate":                true,
	"Proxy-Authorization":               true,
	"Www-Authenticate":                  true,
}

// Validate checks a Config the way Prometheus does, plus the options lambdabridge
// rejects. Errors never quote secrets or the URL's credentials.
func (c *Config) Validate() error {
	if c.URL == "" {
		return errors.New("url is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return errors.New("url is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url %s: scheme must be http or https", redactURL(u))
	}
	if u.Host == "" {
		return fmt.Errorf("url %s: no host", redactURL(u))
	}
	for h, v := range c.Headers {
		if reservedHeaders[http.CanonicalHeaderKey(h)] {
			return fmt.Errorf("header %q is reserved and set by the writer", h)
		}
		if !validHeaderName(h) || strings.ContainsAny(v, "\r\n\x00") {
			return fmt.Errorf("header %q: not a valid HTTP header name, or a value with a line break", h)
		}
	}
	switch {
	case len(c.WriteRelabelConfigs) > 0:
		return fmt.Errorf("write_relabel_configs: %w (use lambdabridge mapping rules)", ErrNotSupported)
	case c.OAuth2 != nil:
		return fmt.Errorf("oauth2: %w", ErrNotSupported)
	case c.AzureAD != nil:
		return fmt.Errorf("azuread: %w", ErrNotSupported)
	case c.GoogleIAM != nil:
		return fmt.Errorf("google_iam: %w", ErrNotSupported)
	case c.ProxyURL != "":
		return fmt.Errorf("proxy_url: %w (set HTTPS_PROXY)", ErrNotSupported)
	case c.ProtobufMessage != "" && c.ProtobufMessage != MessageV1 && c.ProtobufMessage != MessageV2:
		return fmt.Errorf("protobuf_message %q: must be %s (Remote Write 1.0) or %s (2.0)", c.ProtobufMessage, MessageV1, MessageV2)
	case c.SendExemplars:
		return fmt.Errorf("send_exemplars: %w (the aggregation keeps no exemplars)", ErrNotSupported)
	case c.MetadataConfig.SendInterval < 0, c.MetadataConfig.MaxSamplesPerSend < 0:
		return errors.New("metadata_config: values must not be negative")
	}
	if err := CheckExternalLabels(c.ExternalLabels); err != nil {
		return fmt.Errorf("external_labels: %w", err)
	}
	auths := 0
	for _, set := range []bool{c.BasicAuth != nil, c.Authorization != nil, c.BearerToken != "" || c.BearerTokenFile != "", c.SigV4 != nil} {
		if set {
			auths++
		}
	}
	if auths > 1 {
		return errors.New("at most one of basic_auth, authorization, bearer_token(_file) and sigv4 may be set")
	}
	if c.BearerToken != "" && c.BearerTokenFile != "" {
		return errors.New("at most one of bearer_token and bearer_token_file may be set")
	}
	if b := c.BasicAuth; b != nil {
		if b.Password != "" && b.PasswordFile != "" {
			return errors.New("basic_auth: at most one of password and password_file may be set")
		}
		if b.Username != "" && b.UsernameFile != "" {
			return errors.New("basic_auth: at most one of username and username_file may be set")
		}
	}
	if a := c.Authorization; a != nil {
		if a.Credentials != "" && a.CredentialsFile != "" {
			return errors.New("authorization: at most one of credentials and credentials_file may be set")
		}
		if strings.EqualFold(a.Type, "basic") {
			return errors.New("authorization: type Basic is not allowed, use basic_auth")
		}
	}
	if s := c.SigV4; s != nil {
		if (s.AccessKey == "") != (s.SecretKey == "") {
			return errors.New("sigv4: access_key and secret_key must be set together")
		}
	}
	if (c.TLSConfig.CertFile == "") != (c.TLSConfig.KeyFile == "") {
		return errors.New("tls_config: cert_file and key_file must be set together")
	}
	if c.RemoteTimeout < 0 {
		return errors.New("remote_timeout must not be negative")
	}
	q := c.QueueConfig
	switch {
	case q.Capacity < 0, q.MaxSamplesPerSend < 0, q.BatchSendDeadline < 0, q.MinBackoff < 0, q.MaxBackoff < 0,
		q.MinShards < 0, q.MaxShards < 0, q.SampleAgeLimit < 0:
		return errors.New("queue_config: values must not be negative")
	case q.MinShards > q.MaxShards && q.MaxShards != 0:
		return fmt.Errorf("queue_config: min_shards %d is larger than max_shards %d", q.MinShards, q.MaxShards)
	case q.MinBackoff > q.MaxBackoff && q.MaxBackoff != 0:
		return errors.New("queue_config: min_backoff is larger than max_backoff")
	}
	return nil
}

// withDefaults fills zero values with Prometheus' defaults (a Config built in Go
// rather than decoded from YAML).
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.RemoteTimeout == 0 {
		c.RemoteTimeout = d.RemoteTimeout
	}
	if c.FollowRedirects == nil {
		c.FollowRedirects = boolPtr(true)
	}
	if c.EnableHTTP2 == nil {
		c.EnableHTTP2 = boolPtr(true)
	}
	if c.MetadataConfig.Send == nil {
		c.MetadataConfig.Send = boolPtr(true)
	}
	if c.MetadataConfig.SendInterval == 0 {
		c.MetadataConfig.SendInterval = d.MetadataConfig.SendInterval
	}
	if c.MetadataConfig.MaxSamplesPerSend == 0 {
		c.MetadataConfig.MaxSamplesPerSend = d.MetadataConfig.MaxSamplesPerSend
	}
	if c.ProtobufMessage == "" {
		c.ProtobufMessage = MessageV1
	}
	q := &c.QueueConfig
	if q.Capacity == 0 {
		q.Capacity = d.QueueConfig.Capacity
	}
	if q.MaxSamplesPerSend == 0 {
		q.MaxSamplesPerSend = d.QueueConfig.MaxSamplesPerSend
	}
	if q.MinShards == 0 {
		q.MinShards = d.QueueConfig.MinShards
	}
	if q.MaxShards == 0 {
		q.MaxShards = max(d.QueueConfig.MaxShards, q.MinShards)
	}
	if q.BatchSendDeadline == 0 {
		q.BatchSendDeadline = d.QueueConfig.BatchSendDeadline
	}
	if q.MinBackoff == 0 {
		q.MinBackoff = d.QueueConfig.MinBackoff
	}
	if q.MaxBackoff == 0 {
		q.MaxBackoff = d.QueueConfig.MaxBackoff
	}
	if q.MaxBackoff < q.MinBackoff {
		q.MaxBackoff = q.MinBackoff
	}
	if q.MaxSamplesPerSend > q.Capacity {
		q.MaxSamplesPerSend = q.Capacity
	}
	return c
}

func yamlTypeName(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Config]():
		return "remote_write entry"
	case reflect.TypeFor[QueueConfig]():
		return "queue_config"
	case reflect.TypeFor[BasicAuth]():
		return "basic_auth"
	case reflect.TypeFor[Authorization]():
		return "authorization"
	case reflect.TypeFor[TLSConfig]():
		return "tls_config"
	case reflect.TypeFor[SigV4Config]():
		return "sigv4"
	case reflect.TypeFor[MetadataConfig]():
		return "metadata_config"
	}
	return t.Name()
}

// redactURL renders u for logs, labels and errors: no user info, no query (which
// may carry tokens), no fragment.
func redactURL(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return r.String()
}

func boolPtr(b bool) *bool { return &b }

// HA labels: Cortex, Mimir and Amazon Managed Prometheus deduplicate HA pairs
// by these two external labels.
const (
	ClusterLabel = "cluster"
	ReplicaLabel = "__replica__"
)

// CheckExternalLabels accepts valid label names with non-empty values; names
// starting with "__" are reserved, except the HA label __replica__.
func CheckExternalLabels(l map[string]string) error {
	names := make([]string, 0, len(l))
	for k := range l {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		switch {
		case !validLabelName(k):
			return fmt.Errorf("%q is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)", k)
		case strings.HasPrefix(k, "__") && k != ReplicaLabel:
			return fmt.Errorf("%q: names starting with __ are reserved (%s is allowed, for HA pairs)", k, ReplicaLabel)
		case l[k] == "":
			return fmt.Errorf("%q has an empty value", k)
		}
	}
	return nil
}

// ParseExternalLabel reads a NAME=VALUE flag value.
func ParseExternalLabel(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		return "", "", fmt.Errorf("%q: want NAME=VALUE", s)
	}
	if err := CheckExternalLabels(map[string]string{name: value}); err != nil {
		return "", "", err
	}
	return name, value, nil
}

// ParseHeader reads a 'Name: value' flag value and checks that the writer
// does not set the header itself.
func ParseHeader(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || !validHeaderName(name) || strings.ContainsAny(value, "\r\n\x00") {
		return "", "", fmt.Errorf("%q: want 'Name: value'", s)
	}
	if reservedHeaders[http.CanonicalHeaderKey(name)] {
		return "", "", fmt.Errorf("header %q is reserved and set by the writer", name)
	}
	return name, value, nil
}

// validHeaderName accepts an HTTP token (RFC 9110): letters, digits and
// !#$%&'*+-.^_`|~.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0) {
			return false
		}
	}
	return true
}
