package doctor

import (
	"context"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// AWSClients are the read-only clients of the AWS checks.
type AWSClients struct {
	Secrets *secretsmanager.Client
	Stacks  *cloudformation.Client
	Topics  *sns.Client
}

// NewAWSClients builds the clients of the AWS checks from one load of the
// default credential chain (environment, profile, SSO), as an admin's
// workstation has it. They are built here, like dynamoclient's for the
// account commands, and not in internal/awsapp: the Lambda functions build
// theirs from the Lambda environment without the SDK's config package, and
// never call CloudFormation or SNS.
//
// secretsEndpoint (tests: a Secrets Manager stand-in) switches to static
// dummy credentials, so that real credentials are never signed into a
// request to a local port.
func NewAWSClients(ctx context.Context, region, secretsEndpoint string) (*AWSClients, error) {
	var load []func(*config.LoadOptions) error
	if region != "" {
		load = append(load, config.WithRegion(region))
	}
	if secretsEndpoint != "" {
		u, err := url.Parse(secretsEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%w: Secrets Manager endpoint %q is not an http(s) URL", ErrUsage, secretsEndpoint)
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
	return &AWSClients{
		Secrets: secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
			if secretsEndpoint != "" {
				o.BaseEndpoint = aws.String(secretsEndpoint)
			}
		}),
		Stacks: cloudformation.NewFromConfig(cfg),
		Topics: sns.NewFromConfig(cfg),
	}, nil
}
