// Package dynamoclient builds a DynamoDB client from the default AWS
// credential chain, or for a local emulator, for the CLI and tests. It is
// apart from dynamostore so that the Lambda functions, which build their
// client from the Lambda environment (internal/awsapp), do not link the
// SDK's config package and its SSO/STS providers.
package dynamoclient

import (
	"context"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// New builds the DynamoDB client once per cold start (not per call:
// loading the config reads the environment and may call the credential
// endpoint).
//
// With endpoint empty it uses the default credential chain (environment,
// shared profile, SSO, instance or task role) and the region from the
// environment or profile: the CLI runs on an admin's machine, and the
// Lambda functions do not use this package (see the package doc). With an endpoint (dynalite or DynamoDB Local, for tests and
// `samlflex dev`) it uses region us-east-1 and static dummy credentials:
// emulators check neither, and this keeps a developer's real credentials
// from being signed into requests to a local port. optFns (for example a
// test's retry settings) are applied last.
func New(ctx context.Context, endpoint string, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	var load []func(*config.LoadOptions) error
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("dynamoclient: endpoint %q is not an http(s) URL", endpoint)
		}
		load = append(load,
			config.WithRegion("us-east-1"),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("samlflex-local", "samlflex-local", "")),
		)
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("dynamoclient: load AWS config: %v", err)
	}
	if endpoint != "" {
		optFns = append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(endpoint)
		}}, optFns...)
	}
	return dynamodb.NewFromConfig(cfg, optFns...), nil
}
