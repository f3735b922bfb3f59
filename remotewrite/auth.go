package remotewrite

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func newHTTPClient(c TLSConfig, followRedirects, http2 bool) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyFromEnvironment
	tr.ForceAttemptHTTP2 = http2
	if !http2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	tc := &tls.Config{ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // user's choice
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls_config: read ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls_config: ca_file %s holds no PEM certificate", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		// Load now to fail early; reload per handshake so rotated files are used.
		if _, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile); err != nil {
			return nil, fmt.Errorf("tls_config: load cert_file/key_file: %w", err)
		}
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("tls_config: load cert_file/key_file: %w", err)
			}
			return &cert, nil
		}
	}
	tr.TLSClientConfig = tc
	client := &http.Client{Transport: tr}
	if !followRedirects {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return client, nil
}

// newAuth returns what authenticates each request: basic auth, an
// Authorization header or a SigV4 signature. Secret files are read per request,
// as Prometheus does, so rotated secrets are picked up.
func newAuth(c Config) (func(ctx context.Context, req *http.Request, body []byte) error, error) {
	switch {
	case c.BasicAuth != nil:
		b := *c.BasicAuth
		return func(_ context.Context, req *http.Request, _ []byte) error {
			user, err := secretOrFile(b.Username, b.UsernameFile, "basic_auth username_file")
			if err != nil {
				return err
			}
			pass, err := secretOrFile(string(b.Password), b.PasswordFile, "basic_auth password_file")
			if err != nil {
				return err
			}
			req.SetBasicAuth(user, pass)
			return nil
		}, nil
	case c.Authorization != nil || c.BearerToken != "" || c.BearerTokenFile != "":
		typ, cred, file := "Bearer", string(c.BearerToken), c.BearerTokenFile
		if a := c.Authorization; a != nil {
			cred, file = string(a.Credentials), a.CredentialsFile
			if a.Type != "" {
				typ = a.Type
			}
		}
		return func(_ context.Context, req *http.Request, _ []byte) error {
			v, err := secretOrFile(cred, file, "credentials file")
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", typ+" "+v)
			return nil
		}, nil
	case c.SigV4 != nil:
		s, err := newSigV4(context.Background(), *c.SigV4)
		if err != nil {
			return nil, err
		}
		return s.sign, nil
	}
	return nil, nil
}

func secretOrFile(v, file, what string) (string, error) {
	if file == "" {
		return v, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		// the path is configuration, not a secret; the content never appears
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	return strings.TrimSpace(string(b)), nil
}

type sigV4 struct {
	signer  *v4.Signer
	creds   aws.CredentialsProvider
	region  string
	service string
	now     func() time.Time
}

// newSigV4 resolves the credentials provider: static keys from the config,
// else the credential chain (sdkChain: the SDK's default chain, with the
// profile; lambdaChain in the extension's build); role_arn is assumed
// through STS on top. Credentials are fetched lazily, at the first
// request, and cached.
func newSigV4(ctx context.Context, c SigV4Config) (*sigV4, error) {
	s := &sigV4{signer: v4.NewSigner(), region: c.Region, service: c.ServiceName, now: time.Now}
	if s.service == "" {
		s.service = DefaultSigV4Service
	}
	var static aws.CredentialsProvider
	if c.AccessKey != "" {
		static = credentials.NewStaticCredentialsProvider(c.AccessKey, string(c.SecretKey), "")
		s.creds = static
	}
	if static == nil || s.region == "" || c.RoleARN != "" {
		ac, stsOpts, err := defaultChain(ctx, c, static)
		if err != nil {
			return nil, fmt.Errorf("sigv4: %w", err)
		}
		if s.region == "" {
			s.region = ac.Region
		}
		s.creds = ac.Credentials
		if c.RoleARN != "" {
			p := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(ac, stsOpts...), c.RoleARN, func(o *stscreds.AssumeRoleOptions) {
				if c.ExternalID != "" {
					o.ExternalID = aws.String(c.ExternalID)
				}
			})
			s.creds = aws.NewCredentialsCache(p)
		}
	}
	if s.region == "" {
		return nil, errors.New("sigv4: no region: set sigv4.region, AWS_REGION or the profile's region")
	}
	if s.creds == nil {
		return nil, errors.New("sigv4: no credentials provider")
	}
	return s, nil
}

// A credential chain resolves what a SigV4 entry leaves out: the region
// (c.Region when set) and the credentials (static when the entry holds
// keys), and how an STS client for role_arn finds its endpoint.
type credentialChain func(ctx context.Context, c SigV4Config, static aws.CredentialsProvider) (aws.Config, []func(*sts.Options), error)

// sign adds X-Amz-Date, X-Amz-Security-Token (session credentials) and the
// Authorization header; the payload hash is the SHA-256 of the exact
// compressed body.
func (s *sigV4) sign(ctx context.Context, req *http.Request, body []byte) error {
	cr, err := s.creds.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("sigv4: retrieve credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := s.signer.SignHTTP(ctx, cr, req, hex.EncodeToString(sum[:]), s.service, s.region, s.now()); err != nil {
		return fmt.Errorf("sigv4: sign: %w", err)
	}
	return nil
}
