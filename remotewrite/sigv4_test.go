package remotewrite

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	vectorKey    = "AKIDEXAMPLE"
	vectorSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestSigV4SuiteVector reproduces post-x-www-form-urlencoded from the AWS SigV4
// test suite with the SDK signer, and checks the test verifier against it.
func TestSigV4SuiteVector(t *testing.T) {
	body := "Param1=value1"
	req, err := http.NewRequest(http.MethodPost, "https://example.amazonaws.com/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.ContentLength = 0 // the suite does not sign content-length; the SDK does when > 0
	when := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	creds := aws.Credentials{AccessKeyID: vectorKey, SecretAccessKey: vectorSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, sha256Hex([]byte(body)), "service", "us-east-1", when); err != nil {
		t.Fatal(err)
	}
	want := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " +
		"SignedHeaders=content-type;host;x-amz-date, " +
		"Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
	if got := req.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization =\n%s\nwant\n%s", got, want)
	}
	// the verifier sees the request as a server would
	req.Host = req.URL.Host
	if err := verifySigV4(req, []byte(body), sigv4Want{key: vectorKey, secret: vectorSecret, region: "us-east-1", service: "service"}); err != nil {
		t.Errorf("verifier rejects the suite vector: %v", err)
	}
	req.Header.Set("Content-Type", "text/plain")
	if err := verifySigV4(req, []byte(body), sigv4Want{key: vectorKey, secret: vectorSecret, region: "us-east-1", service: "service"}); err == nil {
		t.Errorf("verifier accepts a changed signed header")
	}
}

type sigv4Want struct {
	key, secret, token, region, service string
}

// verifySigV4 re-derives the signature of a received request from the
// specification (canonical request, string to sign, derived key), without the
// SDK.
func verifySigV4(r *http.Request, body []byte, want sigv4Want) error {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return fmt.Errorf("authorization %q is not SigV4", auth)
	}
	parts := map[string]string{}
	for _, p := range strings.Split(rest, ", ") {
		k, v, _ := strings.Cut(p, "=")
		parts[k] = v
	}
	scope := strings.Split(parts["Credential"], "/")
	if len(scope) != 5 || scope[0] != want.key || scope[2] != want.region || scope[3] != want.service || scope[4] != "aws4_request" {
		return fmt.Errorf("credential scope %q, want key %s region %s service %s", parts["Credential"], want.key, want.region, want.service)
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if !strings.HasPrefix(amzDate, scope[1]) {
		return fmt.Errorf("x-amz-date %q outside scope date %s", amzDate, scope[1])
	}
	if got := r.Header.Get("X-Amz-Security-Token"); got != want.token {
		return fmt.Errorf("x-amz-security-token %q, want %q", got, want.token)
	}
	signed := strings.Split(parts["SignedHeaders"], ";")
	if !sort.StringsAreSorted(signed) {
		return fmt.Errorf("signed headers not sorted: %v", signed)
	}
	must := []string{"host", "x-amz-date"}
	if want.token != "" {
		must = append(must, "x-amz-security-token")
	}
	for _, h := range must {
		if !contains(signed, h) {
			return fmt.Errorf("header %s not signed (%v)", h, signed)
		}
	}
	var canon strings.Builder
	canon.WriteString(r.Method + "\n")
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canon.WriteString(path + "\n")
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var qs []string
	for _, k := range keys {
		vs := q[k]
		sort.Strings(vs)
		for _, v := range vs {
			qs = append(qs, awsEscape(k)+"="+awsEscape(v))
		}
	}
	canon.WriteString(strings.Join(qs, "&") + "\n")
	for _, h := range signed {
		var v string
		switch h {
		case "host":
			v = r.Host
		case "content-length":
			v = fmt.Sprint(r.ContentLength)
		default:
			vals := r.Header.Values(h)
			for i := range vals {
				vals[i] = strings.Join(strings.Fields(vals[i]), " ")
			}
			v = strings.Join(vals, ",")
		}
		canon.WriteString(h + ":" + v + "\n")
	}
	canon.WriteString("\n" + parts["SignedHeaders"] + "\n" + sha256Hex(body))
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + strings.Join(scope[1:], "/") + "\n" + sha256Hex([]byte(canon.String()))
	key := []byte("AWS4" + want.secret)
	for _, s := range []string{scope[1], scope[2], scope[3], "aws4_request"} {
		key = hmacSHA256(key, s)
	}
	if sig := hex.EncodeToString(hmacSHA256(key, sts)); sig != parts["Signature"] {
		return fmt.Errorf("signature %s, re-derived %s from canonical request\n%s", parts["Signature"], sig, canon.String())
	}
	return nil
}

func hmacSHA256(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

func awsEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// isolateAWS points the SDK at empty files in a temp dir and clears the
// credential environment, so no host configuration or network is used.
func isolateAWS(t *testing.T) string {
	dir := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ACCESS_KEY", "AWS_SECRET_KEY"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", writeFile(t, dir, "credentials", ""))
	t.Setenv("AWS_CONFIG_FILE", writeFile(t, dir, "config", ""))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return dir
}

// TestSigV4Requests has a receiver verify the signature of real remote_write
// requests, for each way of getting credentials, through the SDK's chain
// and through the extension's (lambdaChain), which must agree wherever an
// execution environment can get there. lambdaErr is the extension's error
// where it cannot.
func TestSigV4Requests(t *testing.T) {
	for _, tc := range []struct {
		name      string
		setup     func(t *testing.T, dir string) (SigV4Config, sigv4Want)
		lambdaErr string
	}{
		{"static keys", func(t *testing.T, _ string) (SigV4Config, sigv4Want) {
			return SigV4Config{Region: "us-east-1", AccessKey: "AKIDSTATIC", SecretKey: "static/secret"},
				sigv4Want{key: "AKIDSTATIC", secret: "static/secret", region: "us-east-1", service: "aps"}
		}, ""},
		{"environment with session token", func(t *testing.T, _ string) (SigV4Config, sigv4Want) {
			t.Setenv("AWS_ACCESS_KEY_ID", "ASIAENV")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "env/secret")
			t.Setenv("AWS_SESSION_TOKEN", "session-token-123")
			t.Setenv("AWS_REGION", "eu-central-1")
			return SigV4Config{}, sigv4Want{key: "ASIAENV", secret: "env/secret", token: "session-token-123", region: "eu-central-1", service: "aps"}
		}, ""},
		{"shared credentials profile", func(t *testing.T, dir string) (SigV4Config, sigv4Want) {
			writeFile(t, dir, "credentials", "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = wrong\n\n"+
				"[prom]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile/secret\naws_session_token = profile-token\n")
			writeFile(t, dir, "config", "[profile prom]\nregion = ap-southeast-2\n")
			return SigV4Config{Profile: "prom", ServiceName: "custom"},
				sigv4Want{key: "AKIDPROFILE", secret: "profile/secret", token: "profile-token", region: "ap-southeast-2", service: "custom"}
		}, `profile "prom": an execution environment has no shared configuration files`},
		{"container credentials endpoint (SnapStart)", func(t *testing.T, dir string) (SigV4Config, sigv4Want) {
			// What Lambda gives a SnapStart function instead of the
			// environment's keys: a loopback endpoint and its token.
			creds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/2018-06-01/credentials" || r.Header.Get("Authorization") != "token-from-file" {
					http.Error(w, "unexpected "+r.URL.Path+" "+r.Header.Get("Authorization"), http.StatusForbidden)
					return
				}
				fmt.Fprint(w, `{"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"container/secret","Token":"container-token","Expiration":"2099-01-01T00:00:00Z"}`)
			}))
			t.Cleanup(creds.Close)
			t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", creds.URL+"/2018-06-01/credentials")
			t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "overridden-by-the-file")
			t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", writeFile(t, dir, "token", "token-from-file"))
			t.Setenv("AWS_REGION", "us-east-2")
			return SigV4Config{}, sigv4Want{key: "ASIACONTAINER", secret: "container/secret", token: "container-token", region: "us-east-2", service: "aps"}
		}, ""},
		{"role_arn through STS", func(t *testing.T, _ string) (SigV4Config, sigv4Want) {
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIDBASE")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "base/secret")
			sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				form, _ := url.ParseQuery(string(b))
				if form.Get("Action") != "AssumeRole" || form.Get("RoleArn") != "arn:aws:iam::123456789012:role/prom" || form.Get("ExternalId") != "ext-1" {
					http.Error(w, "unexpected "+string(b), http.StatusBadRequest)
					return
				}
				if err := verifySigV4(r, b, sigv4Want{key: "AKIDBASE", secret: "base/secret", region: "us-west-2", service: "sts"}); err != nil {
					http.Error(w, err.Error(), http.StatusForbidden)
					return
				}
				w.Header().Set("Content-Type", "text/xml")
				fmt.Fprint(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<Credentials><AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>role/secret</SecretAccessKey><SessionToken>role-token</SessionToken>
<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/prom/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
</AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>`)
			}))
			t.Cleanup(sts.Close)
			t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
			return SigV4Config{Region: "us-west-2", RoleARN: "arn:aws:iam::123456789012:role/prom", ExternalID: "ext-1"},
				sigv4Want{key: "ASIAROLE", secret: "role/secret", token: "role-token", region: "us-west-2", service: "aps"}
		}, ""},
	} {
		for _, chain := range []struct {
			name string
			fn   credentialChain
		}{{"sdk", sdkChain}, {"lambda", lambdaChain}} {
			t.Run(tc.name+"/"+chain.name, func(t *testing.T) {
				dir := isolateAWS(t)
				cfg4, want := tc.setup(t, dir)
				setChain(t, chain.fn)
				rc := newReceiver(t)
				rc.check = func(r *http.Request, body []byte) error { return verifySigV4(r, body, want) }
				cfg := testConfig(rc.url() + "?tenant=a%20b")
				cfg.SigV4 = &cfg4
				if chain.name == "lambda" && tc.lambdaErr != "" {
					if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tc.lambdaErr) {
						t.Fatalf("New = %v, want %q", err, tc.lambdaErr)
					}
					return
				}
				w := newTestWriter(t, cfg)
				for i := range 3 {
					_ = w.Append(gauges(50, float64(i)), time.UnixMilli(int64(1000*(i+1))))
				}
				if err := flush(t, w); err != nil {
					t.Error(err)
				}
				s := checkAccounting(t, w, rc, false)
				if s.Sent != 150 {
					t.Errorf("stats %s, want 150 sent", s)
				}
			})
		}
	}
}

// setChain makes fn the credential chain for the rest of the test.
func setChain(t *testing.T, fn credentialChain) {
	old := defaultChain
	defaultChain = fn
	t.Cleanup(func() { defaultChain = old })
}

// TestLambdaChainRefuses: what the extension's chain cannot use is an
// error when the writer is built, naming what to set.
func TestLambdaChainRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"nothing", nil, "no credentials: neither AWS_ACCESS_KEY_ID"},
		{"a key without its secret", map[string]string{"AWS_ACCESS_KEY_ID": "AKID"}, "no credentials"},
		{"http endpoint off loopback", map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://192.0.2.1/creds"}, "must be on loopback or the ECS or EKS container address, 192.0.2.1 is not"},
		{"endpoint of another scheme", map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "ftp://127.0.0.1/creds"}, "scheme must be http or https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolateAWS(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			setChain(t, lambdaChain)
			_, err := New(Config{URL: "http://127.0.0.1:1/", SigV4: &SigV4Config{Region: "us-east-1"}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want %q", err, tc.want)
			}
		})
	}
	// The ECS and EKS addresses and https are allowed, as the SDK allows
	// them; the endpoint is only called at the first request.
	for _, u := range []string{"http://169.254.170.2/v2/credentials", "http://169.254.170.23/creds", "http://[fd00:ec2::23]/creds", "https://creds.example.com/x", "http://localhost:9/creds"} {
		isolateAWS(t)
		t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", u)
		setChain(t, lambdaChain)
		if _, err := New(Config{URL: "http://127.0.0.1:1/", SigV4: &SigV4Config{Region: "us-east-1"}}); err != nil {
			t.Errorf("%s: New = %v", u, err)
		}
	}
}

func TestSigV4NoRegion(t *testing.T) {
	isolateAWS(t)
	_, err := New(Config{URL: "http://127.0.0.1:1/", SigV4: &SigV4Config{AccessKey: "A", SecretKey: "B"}})
	if err == nil || !strings.Contains(err.Error(), "no region") {
		t.Errorf("New = %v, want a missing region error", err)
	}
	_, err = New(Config{URL: "http://127.0.0.1:1/", SigV4: &SigV4Config{Profile: "missing", Region: "r"}})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("New with a missing profile = %v", err)
	}
}
