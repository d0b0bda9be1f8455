package samlflextest_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/samlflex/samlflex/internal/awsfake/smfake"
	"github.com/samlflex/samlflex/internal/awsfake/testretry"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/samlflextest"
)

// TestStoredKeySet reads back a set written to the Secrets Manager
// stand-in, and fails the test for a secret that does not hold one.
func TestStoredKeySet(t *testing.T) {
	t.Parallel()
	srv := smfake.New(t)
	c := secretsmanager.New(secretsmanager.Options{Region: smfake.Region, BaseEndpoint: aws.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), Retryer: testretry.OneAttempt()})
	want := &keys.Set{Current: samlflextest.KeyPair(t, keys.P256, "stored")}
	blob, err := keys.MarshalSet(want)
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{"keys": string(blob), "not-keys": "{}"} {
		if _, err := c.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := samlflextest.StoredKeySet(t, c, "keys"); got.Current == nil || got.Current.Kid != want.Current.Kid {
		t.Fatalf("StoredKeySet = %+v, want current %s", got, want.Current.Kid)
	}
	ft := &fatalT{TB: t}
	func() {
		defer func() { _ = recover() }()
		samlflextest.StoredKeySet(ft, c, "not-keys")
	}()
	if !ft.failed {
		t.Fatal("StoredKeySet accepted a secret without a key set")
	}
}
