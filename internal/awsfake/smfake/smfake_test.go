package smfake_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/samlflex/samlflex/internal/awsfake/smfake"
	"github.com/samlflex/samlflex/internal/awsfake/testretry"
)

// newClient is the real SDK client pointed at the fake, with retries that
// do not sleep. With attempts 1 it retries only a connection closed by
// net/http itself (see testretry).
func newClient(srv *smfake.Server, attempts int) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:       smfake.Region,
		BaseEndpoint: aws.String(srv.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDSMFAKE", "smfake-secret", ""),
		Retryer:      testretry.Attempts(attempts),
	})
}

const (
	tok1 = "11111111-1111-1111-1111-111111111111"
	tok2 = "22222222-2222-2222-2222-222222222222"
	tok3 = "33333333-3333-3333-3333-333333333333"
)

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func stagesOf(t *testing.T, c *secretsmanager.Client, id string) map[string][]string {
	t.Helper()
	out, err := c.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	return out.VersionIdsToStages
}

func TestStagingLabels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := smfake.New(t)
	c := newClient(srv, 1)

	created, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("sp-keys")})
	if err != nil {
		t.Fatal(err)
	}
	// A secret created without a value has no AWSCURRENT version.
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("sp-keys")})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("GetSecretValue on an empty secret = %v, want ResourceNotFoundException", err)
	}
	if _, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: created.ARN, ClientRequestToken: aws.String(tok1), SecretString: aws.String("v1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("sp-keys"), ClientRequestToken: aws.String(tok2), SecretString: aws.String("v2")}); err != nil {
		t.Fatal(err)
	}
	st := stagesOf(t, c, "sp-keys")
	if strings.Join(st[tok2], ",") != "AWSCURRENT" || strings.Join(st[tok1], ",") != "AWSPREVIOUS" {
		t.Fatalf("stages = %v, want tok2 current and tok1 previous", st)
	}

	// Idempotency: same token and data is a no-op; other data is refused.
	if _, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("sp-keys"), ClientRequestToken: aws.String(tok1), SecretString: aws.String("v1")}); err != nil {
		t.Fatalf("repeated PutSecretValue: %v", err)
	}
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("sp-keys"), ClientRequestToken: aws.String(tok1), SecretString: aws.String("other")})
	var exists *types.ResourceExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("PutSecretValue with a used token and new data = %v, want ResourceExistsException", err)
	}
	if got := len(srv.Versions("sp-keys")); got != 2 {
		t.Errorf("%d versions, want 2", got)
	}
	if st := stagesOf(t, c, "sp-keys"); strings.Join(st[tok1], ",") != "AWSPREVIOUS" {
		t.Errorf("the no-op put changed stages: %v", st)
	}

	// RotateSecret stages an empty AWSPENDING version.
	rot, err := c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId: aws.String("sp-keys"), ClientRequestToken: aws.String(tok3),
		RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:123456789012:function:rotate"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(rot.VersionId) != tok3 {
		t.Errorf("RotateSecret VersionId = %q", aws.ToString(rot.VersionId))
	}
	desc, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("sp-keys")})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(desc.RotationEnabled) || strings.Join(desc.VersionIdsToStages[tok3], ",") != "AWSPENDING" {
		t.Fatalf("after RotateSecret: enabled=%v stages=%v", aws.ToBool(desc.RotationEnabled), desc.VersionIdsToStages)
	}
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("sp-keys"), VersionId: aws.String(tok3), VersionStage: aws.String("AWSPENDING")})
	if !errors.As(err, &rnf) {
		t.Fatalf("GetSecretValue of the empty pending version = %v, want ResourceNotFoundException", err)
	}
	_, err = c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("sp-keys"), ClientRequestToken: aws.String(strings.Repeat("4", 36))})
	var invalid *types.InvalidRequestException
	if !errors.As(err, &invalid) {
		t.Fatalf("RotateSecret during a rotation = %v, want InvalidRequestException", err)
	}
	// Filling the pending version keeps its stage.
	if _, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("sp-keys"), ClientRequestToken: aws.String(tok3), SecretString: aws.String("v3"), VersionStages: []string{"AWSPENDING"}}); err != nil {
		t.Fatal(err)
	}

	// Taking AWSCURRENT from a version must name that version.
	_, err = c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("sp-keys"), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(tok3)})
	var badParam *types.InvalidParameterException
	if !errors.As(err, &badParam) {
		t.Fatalf("move without RemoveFromVersionId = %v, want InvalidParameterException", err)
	}
	if _, err := c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("sp-keys"), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(tok3), RemoveFromVersionId: aws.String(tok2)}); err != nil {
		t.Fatal(err)
	}
	st = stagesOf(t, c, "sp-keys")
	if strings.Join(st[tok3], ",") != "AWSPENDING,AWSCURRENT" || strings.Join(st[tok2], ",") != "AWSPREVIOUS" || len(st[tok1]) != 0 {
		t.Errorf("after the move: %v", st)
	}
	cur, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("sp-keys")})
	if err != nil || aws.ToString(cur.SecretString) != "v3" {
		t.Fatalf("current = %v, %v", aws.ToString(cur.SecretString), err)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name         string
		mode         smfake.FaultMode
		attempts     int
		wantErrCode  string // "" = success
		wantRequests int
		wantVersions int
	}{
		{"500 before applying, no retry", smfake.FailBefore, 1, "InternalServiceError", 1, 0},
		{"500 before applying, retried", smfake.FailBefore, 3, "", 2, 1},
		{"throttled, retried", smfake.Throttle, 3, "", 2, 1},
		{"500 after applying, no retry: applied anyway", smfake.FailAfter, 1, "InternalServiceError", 1, 1},
		{"500 after applying, retried with the same token: one version", smfake.FailAfter, 3, "", 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := smfake.New(t)
			c := newClient(srv, tt.attempts)
			if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s")}); err != nil {
				t.Fatal(err)
			}
			srv.Fail("PutSecretValue", tt.mode, 1)
			_, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(tok1), SecretString: aws.String("v")})
			if got := errCode(err); got != tt.wantErrCode {
				t.Errorf("error code = %q (%v), want %q", got, err, tt.wantErrCode)
			}
			if got := srv.Requests("PutSecretValue"); got != tt.wantRequests {
				t.Errorf("%d PutSecretValue requests, want %d", got, tt.wantRequests)
			}
			if got := len(srv.Versions("s")); got != tt.wantVersions {
				t.Errorf("%d versions, want %d", got, tt.wantVersions)
			}
		})
	}
}

func TestDownAndEnvelope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := smfake.New(t)
	c := newClient(srv, 2)
	srv.SetDown(true)
	if _, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("x")}); errCode(err) != "InternalServiceError" {
		t.Fatalf("while down: %v", err)
	}
	srv.SetDown(false)
	if _, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("x")}); errCode(err) != "ResourceNotFoundException" {
		t.Fatalf("after recovery: %v", err)
	}
	// An unsigned request is refused, as by the service.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+"/", strings.NewReader(`{"SecretId":"x"}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager.DescribeSecret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-Errortype") != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned request: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
	}
}
