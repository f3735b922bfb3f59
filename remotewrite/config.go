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
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/lambdabridge/lambdabridge/internal/yamlstrict"
)

// Config is one entry of a `remote_write:` list, in Prometheus' own syntax, so
// that a user can paste the block from prometheus.yml. Fields Prometheus has but
// lambdabridge does not implement are rejected with a "not supported" error
// rather than silently ignored; the few that have no effect here (shard counts,
// exemplars, metadata) are accepted and documented as ignored.
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

	// Accepted from Prometheus configs; no effect (see the package doc).
	FollowRedirects *bool     `yaml:"follow_redirects,omitempty"`
	EnableHTTP2     *bool     `yaml:"enable_http2,omitempty"`
	SendExemplars   bool      `yaml:"send_exemplars,omitempty"`
	MetadataConfig  yaml.Node `yaml:"metadata_config,omitempty"`

	// Recognised so that pasting them gives a clear error instead of "unknown field".
	WriteRelabelConfigs []yaml.Node `yaml:"write_relabel_configs,omitempty"`
	OAuth2              *yaml.Node  `yaml:"oauth2,omitempty"`
	AzureAD             *yaml.Node  `yaml:"azuread,omitempty"`
	GoogleIAM           *yaml.Node  `yaml:"google_iam,omitempty"`
	ProxyURL            string      `yaml:"proxy_url,omitempty"`
	ProtobufMessage     string      `yaml:"protobuf_message,omitempty"`
}

// QueueConfig mirrors Prometheus' queue_config. Capacity bounds the samples
// waiting in the writer's queue; when it is full new samples are dropped and
// counted with reason "queue_full". MinShards and MaxShards are accepted and
// ignored: each writer sends with one connection in series order.
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
	DefaultBatchSendDeadline = 5 * time.Second
	DefaultMinBackoff        = 30 * time.Millisecond
	DefaultMaxBackoff        = 5 * time.Second
	DefaultSigV4Service      = "aps"
)

// DefaultConfig returns a Config holding Prometheus' defaults and no URL.
func DefaultConfig() Config {
	return Config{
		RemoteTimeout: model.Duration(DefaultRemoteTimeout),
		QueueConfig: QueueConfig{
			Capacity:          DefaultCapacity,
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
// top-level keys are errors) and validates every entry.
func ParseConfigs(data []byte) ([]Config, error) {
	var doc struct {
		RemoteWrite []Config `yaml:"remote_write"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse remote_write config: %w", err)
	}
	for i := range doc.RemoteWrite {
		if err := doc.RemoteWrite[i].Validate(); err != nil {
			return nil, fmt.Errorf("parse remote_write config: entry %d: %w", i, err)
		}
	}
	if err := CheckNames(doc.RemoteWrite); err != nil {
		return nil, fmt.Errorf("parse remote_write config: %w", err)
	}
	return doc.RemoteWrite, nil
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
	for h := range c.Headers {
		if reservedHeaders[http.CanonicalHeaderKey(h)] {
			return fmt.Errorf("header %q is reserved and set by the writer", h)
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
	case c.ProtobufMessage != "" && c.ProtobufMessage != "prometheus.WriteRequest":
		return fmt.Errorf("protobuf_message %q: %w (remote_write 1.0 only)", c.ProtobufMessage, ErrNotSupported)
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
	case q.Capacity < 0, q.MaxSamplesPerSend < 0, q.BatchSendDeadline < 0, q.MinBackoff < 0, q.MaxBackoff < 0:
		return errors.New("queue_config: values must not be negative")
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
	q := &c.QueueConfig
	if q.Capacity == 0 {
		q.Capacity = d.QueueConfig.Capacity
	}
	if q.MaxSamplesPerSend == 0 {
		q.MaxSamplesPerSend = d.QueueConfig.MaxSamplesPerSend
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
	}
	return t.Name()
}

// redactURL renders u for logs, labels and errors: no user info, no query (which
// may carry tokens), no fragment.
func redactURL(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return r.String()
}
