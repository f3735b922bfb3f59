package remotewrite

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// CheckInLambda returns the error of a SigV4 configuration that cannot
// work in an execution environment, where the credentials chain is
// lambdaChain's: a profile (there are no shared configuration files).
func CheckInLambda(c SigV4Config) error {
	if c.Profile != "" {
		return fmt.Errorf("profile %q: an execution environment has no shared configuration files; the extension signs with the function's role (give it aps:RemoteWrite), or assumes role_arn with it", c.Profile)
	}
	return nil
}

// lambdaChain resolves credentials and region as the SDK's default chain
// does inside a Lambda execution environment, without the SDK's
// configuration loader: linking that loader (and the SSO, OIDC and
// sign-in clients it brings) cost the extension's program 1.5-2 ms more
// CPU before main, at every cold start.
//
// In an execution environment the chain ends in one of two places: the
// environment variables, where Lambda puts the execution role's
// credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), or the container credentials endpoint
// (AWS_CONTAINER_CREDENTIALS_FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN,
// or _RELATIVE_URI), which SnapStart functions get instead. The region is
// AWS_REGION's (or AWS_DEFAULT_REGION's). There are no shared
// configuration files, so a profile is an error, and no instance metadata.
// An STS client for role_arn honours AWS_ENDPOINT_URL_STS and
// AWS_ENDPOINT_URL, as the SDK's does.
func lambdaChain(ctx context.Context, c SigV4Config, static aws.CredentialsProvider) (aws.Config, []func(*sts.Options), error) {
	if err := CheckInLambda(c); err != nil {
		return aws.Config{}, nil, err
	}
	ac := aws.Config{Region: cmp.Or(c.Region, os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION")), Credentials: static}
	if ac.Credentials == nil {
		p, err := environmentCredentials(ctx)
		if err != nil {
			return aws.Config{}, nil, err
		}
		ac.Credentials = p
	}
	var stsOpts []func(*sts.Options)
	if ep := cmp.Or(os.Getenv("AWS_ENDPOINT_URL_STS"), os.Getenv("AWS_ENDPOINT_URL")); ep != "" {
		stsOpts = append(stsOpts, func(o *sts.Options) { o.BaseEndpoint = aws.String(ep) })
	}
	return ac, stsOpts, nil
}

// ecsCredentialsHost is where AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
// points.
const ecsCredentialsHost = "http://169.254.170.2"

// environmentCredentials returns the credentials of the environment
// variables, else of the container credentials endpoint, cached and
// refreshed five minutes before they expire.
func environmentCredentials(ctx context.Context) (aws.CredentialsProvider, error) {
	id := cmp.Or(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_ACCESS_KEY"))
	secret := cmp.Or(os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SECRET_KEY"))
	if id != "" && secret != "" {
		return credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN")), nil
	}
	var endpoint string
	if rel := os.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel != "" {
		endpoint = ecsCredentialsHost + rel
	} else if full := os.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"); full != "" {
		if err := checkCredentialsEndpoint(ctx, full); err != nil {
			return nil, fmt.Errorf("AWS_CONTAINER_CREDENTIALS_FULL_URI: %w", err)
		}
		endpoint = full
	} else {
		return nil, errors.New("no credentials: neither AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Lambda sets them to the execution role's) nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set")
	}
	p := endpointcreds.New(endpoint, func(o *endpointcreds.Options) {
		o.AuthorizationToken = os.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
		if file := os.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); file != "" {
			o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
				b, err := os.ReadFile(file)
				if err != nil {
					return "", fmt.Errorf("read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: %w", err)
				}
				return strings.TrimSpace(string(b)), nil
			})
		}
	})
	return aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 5 * time.Minute }), nil
}

// checkCredentialsEndpoint allows what the SDK allows: any https
// endpoint, and http only to loopback or the ECS and EKS container
// addresses (a hostname must resolve to those alone).
func checkCredentialsEndpoint(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	switch {
	case host == "":
		return fmt.Errorf("%q has no host", raw)
	case u.Scheme == "https":
		return nil
	case u.Scheme != "http":
		return fmt.Errorf("%q: the scheme must be http or https", raw)
	}
	addrs := []string{host}
	if net.ParseIP(host) == nil {
		if addrs, err = net.DefaultResolver.LookupHost(ctx, host); err != nil {
			return err
		}
	}
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip == nil || !(ip.IsLoopback() || ip.Equal(net.IPv4(169, 254, 170, 2)) || ip.Equal(net.IPv4(169, 254, 170, 23)) || ip.Equal(net.ParseIP("fd00:ec2::23"))) {
			return fmt.Errorf("%q: an http endpoint must be on loopback or the ECS or EKS container address, %s is not", raw, a)
		}
	}
	return nil
}
