package moto_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/samlflex/samlflex/internal/awsfake/moto"
	"github.com/samlflex/samlflex/internal/awsfake/testretry"
)

var shared moto.Shared

func TestMain(m *testing.M) { os.Exit(shared.Run(m)) }

func client(srv *moto.Server) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region: moto.Region, BaseEndpoint: aws.String(srv.URL()), HTTPClient: srv.HTTPClient(),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	})
}

// Two clients of one server work in separate accounts: the same secret
// name can be created twice, and neither sees the other's.
func TestHTTPClientIsolatesAccounts(t *testing.T) {
	t.Parallel()
	srv := shared.Get(t)
	ctx := context.Background()
	a, b := client(srv), client(srv)
	for _, c := range []*secretsmanager.Client{a, b} {
		if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("same-name"), SecretString: aws.String("x")}); err != nil {
			t.Fatalf("CreateSecret: %v", err)
		}
	}
	if _, err := a.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("same-name"), SecretString: aws.String("x")}); err == nil {
		t.Fatal("a second CreateSecret in one account succeeded: the account header is not applied")
	}
	if _, err := a.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("only-a"), SecretString: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	_, err := b.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("only-a")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("b sees a's secret: DescribeSecret = %v", err)
	}
}

// Start's server is gone once its test has ended.
func TestStartStopsOnCleanup(t *testing.T) {
	t.Parallel()
	var url string
	t.Run("inner", func(t *testing.T) {
		srv := moto.Start(t)
		url = srv.URL()
		if _, err := client(srv).ListSecrets(context.Background(), &secretsmanager.ListSecretsInput{}); err != nil {
			t.Fatalf("ListSecrets: %v", err)
		}
	})
	if url == "" {
		t.Skip("inner test skipped")
	}
	c := secretsmanager.New(secretsmanager.Options{
		Region: moto.Region, BaseEndpoint: aws.String(url), Retryer: testretry.OneAttempt(),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	})
	if _, err := c.ListSecrets(context.Background(), &secretsmanager.ListSecretsInput{}); err == nil {
		t.Error("moto_server still answers after its test ended")
	}
}
