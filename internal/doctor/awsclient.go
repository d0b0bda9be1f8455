package doctor

import (
	"context"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// NewSecretsClient builds the Secrets Manager client of the rotation check
// from the default credential chain (environment, profile, SSO), as an
// admin's workstation has it. It is here, like dynamoclient for the
// account commands, and not in internal/awsapp, because the Lambda
// functions build theirs from the Lambda environment without the SDK's
// config package.
//
// endpoint (tests: a Secrets Manager stand-in) uses static dummy
// credentials, so that real credentials are never signed into a request
// to a local port.
func NewSecretsClient(ctx context.Context, region, endpoint string) (*secretsmanager.Client, error) {
	var load []func(*config.LoadOptions) error
	if region != "" {
		load = append(load, config.WithRegion(region))
	}
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%w: Secrets Manager endpoint %q is not an http(s) URL", ErrUsage, endpoint)
		}
		if region == "" {
			load = append(load, config.WithRegion("us-east-1"))
		}
		load = append(load, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("samlflex-local", "samlflex-local", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("doctor: load AWS config: %v", err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("%w: no AWS region: give --region or set AWS_REGION", ErrUsage)
	}
	return secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}
