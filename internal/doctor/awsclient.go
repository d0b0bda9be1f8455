package doctor

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/samlflex/samlflex/internal/awsconf"
	"github.com/samlflex/samlflex/internal/keys/smkeys/smclient"
)

// AWSClients are the read-only clients of the AWS checks.
type AWSClients struct {
	Secrets *secretsmanager.Client
	Stacks  *cloudformation.Client
	Topics  *sns.Client
}

// NewAWSClients builds the clients of the AWS checks from the default
// credential chain (environment, profile, SSO; region from AWS_REGION or
// the profile), as an admin's workstation has it and as every other
// command of the CLI does. The Secrets Manager client is smclient's, the
// one `samlflex keys` uses; CloudFormation and SNS are only doctor's. None
// of this is in internal/awsapp: the Lambda functions build their clients
// from the Lambda environment without the SDK's config package, and never
// call CloudFormation or SNS.
//
// secretsEndpoint (tests: a Secrets Manager stand-in) is smclient's: dummy
// credentials, so that real ones are never signed into a request to a
// local port.
func NewAWSClients(ctx context.Context, secretsEndpoint string) (*AWSClients, error) {
	sm, err := smclient.New(ctx, secretsEndpoint)
	if err != nil {
		return nil, fmt.Errorf("doctor: %w", err)
	}
	c := &AWSClients{Secrets: sm}
	if secretsEndpoint != "" {
		// Tests: CloudFormation and SNS have no stand-in; they stay nil
		// and the CLI does not offer them with an endpoint.
		return c, nil
	}
	cfg, err := awsconf.Load(ctx, "doctor", "")
	if err != nil {
		return nil, err
	}
	c.Stacks, c.Topics = cloudformation.NewFromConfig(cfg), sns.NewFromConfig(cfg)
	return c, nil
}
