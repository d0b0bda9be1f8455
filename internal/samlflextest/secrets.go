package samlflextest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/samlflex/samlflex/internal/keys"
)

// SecretGetter is the one Secrets Manager call StoredKeySet makes; the SDK
// client has it.
type SecretGetter interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// StoredKeySet reads the SP key set stored in secret id (its AWSCURRENT
// version), failing the test on any error.
func StoredKeySet(t testing.TB, c SecretGetter, id string) *keys.Set {
	t.Helper()
	// The stage is named although AWSCURRENT is the documented default:
	// moto's default is the version last put as AWSCURRENT, which
	// UpdateSecretVersionStage does not change.
	out, err := c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(id), VersionStage: aws.String("AWSCURRENT"),
	})
	if err != nil {
		t.Fatal(err)
	}
	set, err := keys.ParseSet([]byte(aws.ToString(out.SecretString)))
	if err != nil {
		t.Fatal(err)
	}
	return set
}
