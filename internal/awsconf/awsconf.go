// Package awsconf loads the AWS SDK configuration of the CLI's clients
// (smclient for Secrets Manager, dynamoclient for DynamoDB, and doctor's
// CloudFormation and SNS clients), so that the rule for a local endpoint
// is written once. It imports the SDK's config package with its SSO/STS
// providers; the Lambda functions, which build their clients from the
// Lambda environment (internal/awsapp), must not import it.
package awsconf

import (
	"context"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Load returns the SDK config for a client of endpoint. With endpoint
// empty it is the default chain (environment, shared profile, SSO,
// instance or task role; region from the environment or profile), as an
// admin's machine has it. With an endpoint (a local emulator or stand-in,
// for tests and `samlflex dev`) it must be an http(s) URL, and the region
// is us-east-1 with static dummy credentials: emulators check neither, and
// this keeps real credentials from being signed into requests to a local
// port. The caller still points its client at endpoint (BaseEndpoint).
// who prefixes the errors ("smclient").
func Load(ctx context.Context, who, endpoint string) (aws.Config, error) {
	var load []func(*config.LoadOptions) error
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return aws.Config{}, fmt.Errorf("%s: endpoint %q is not an http(s) URL", who, endpoint)
		}
		load = append(load,
			config.WithRegion("us-east-1"),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("samlflex-local", "samlflex-local", "")),
		)
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("%s: load AWS config: %v", who, err)
	}
	return cfg, nil
}
