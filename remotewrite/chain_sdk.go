//go:build !lambdabridge_extension

package remotewrite

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// defaultChain is the SDK's default chain. The Lambda extension is built
// with the tag lambdabridge_extension, and uses lambdaChain instead.
var defaultChain credentialChain = sdkChain

// sdkChain is the SDK's default chain: the environment, the shared files
// with c.Profile, web identity, the container endpoint, IMDS; the region
// from c.Region, the environment or the profile.
func sdkChain(ctx context.Context, c SigV4Config, static aws.CredentialsProvider) (aws.Config, []func(*sts.Options), error) {
	var lo []func(*awsconfig.LoadOptions) error
	if c.Profile != "" {
		lo = append(lo, awsconfig.WithSharedConfigProfile(c.Profile))
	}
	if c.Region != "" {
		lo = append(lo, awsconfig.WithRegion(c.Region))
	}
	if static != nil {
		lo = append(lo, awsconfig.WithCredentialsProvider(static))
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return aws.Config{}, nil, fmt.Errorf("load aws configuration: %w", err)
	}
	return ac, nil, nil
}
