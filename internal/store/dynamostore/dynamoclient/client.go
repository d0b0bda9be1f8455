// Package dynamoclient builds a DynamoDB client from the default AWS
// credential chain, or for a local emulator, for the CLI and tests. It is
// apart from dynamostore so that the Lambda functions, which build their
// client from the Lambda environment (internal/awsapp), do not link the
// SDK's config package and its SSO/STS providers.
package dynamoclient

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/samlflex/samlflex/internal/awsconf"
)

// New builds the DynamoDB client once per cold start (not per call:
// loading the config reads the environment and may call the credential
// endpoint).
//
// The credentials and region follow awsconf.Load: the default chain with
// endpoint empty (the CLI runs on an admin's machine; the Lambda functions
// do not use this package, see the package doc), dummy ones with an
// endpoint (dynalite or DynamoDB Local, for tests and `samlflex dev`).
// optFns (for example a test's retry settings) are applied last.
func New(ctx context.Context, endpoint string, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	cfg, err := awsconf.Load(ctx, "dynamoclient", endpoint)
	if err != nil {
		return nil, err
	}
	if endpoint != "" {
		optFns = append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(endpoint)
		}}, optFns...)
	}
	return dynamodb.NewFromConfig(cfg, optFns...), nil
}
