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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/samlflex/samlflex/internal/awsconf"
)

// New builds the client with awsconf.Load's credentials and region: the
// default chain with endpoint empty, dummy ones with an endpoint (a local
// emulator, for tests), so that an admin's real credentials are never
// signed into requests to a local port.
func New(ctx context.Context, endpoint string) (*secretsmanager.Client, error) {
	cfg, err := awsconf.Load(ctx, "smclient", endpoint)
	if err != nil {
		return nil, err
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
