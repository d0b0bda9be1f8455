// Package smclient builds a Secrets Manager client from the default AWS
// credential chain, or for a local stand-in: the one constructor of the
// CLI (`samlflex keys`, `doctor`, and `account put`'s Flex secrets).
// It is apart from smkeys so that the Lambda functions, which build their
// client from the Lambda environment (internal/awsapp), do not link the
// SDK's config package and its SSO/STS providers.
package smclient

import (
	"context"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// New builds the client. With endpoint empty it uses the default chain
// (environment, profile, SSO, instance role; region from the environment
// or profile). With an endpoint (a local emulator, for tests) it uses
// region us-east-1 and static dummy credentials, so that an admin's real
// credentials are never signed into requests to a local port.
func New(ctx context.Context, endpoint string) (*secretsmanager.Client, error) {
	var load []func(*config.LoadOptions) error
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("smclient: endpoint %q is not an http(s) URL", endpoint)
		}
		load = append(load,
			config.WithRegion("us-east-1"),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("samlflex-local", "samlflex-local", "")),
		)
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("smclient: load AWS config: %v", err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("smclient: no AWS region configured (set AWS_REGION or a profile's region)")
	}
	var opts []func(*secretsmanager.Options)
	if endpoint != "" {
		opts = append(opts, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(endpoint) })
	}
	return secretsmanager.NewFromConfig(cfg, opts...), nil
}
