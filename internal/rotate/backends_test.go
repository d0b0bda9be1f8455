package rotate_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/samlflex/samlflex/internal/awsfake/moto"
	"github.com/samlflex/samlflex/internal/awsfake/smfake"
)

// The rotation tests run against smfake, our own stand-in, which can fail
// or hold any single request (fault injection, pauses), and the tests in
// emulators_test.go run the same rotations against moto_server as well, a
// maintained emulator written from another reading of the service. A
// difference between the two is a bug in smfake, in moto, or in our
// reading of Secrets Manager, and shows up as a test that passes on one
// backend only.

// secretsBackend is a Secrets Manager implementation to test against.
type secretsBackend struct {
	name string
	// open returns a new, empty service that no other test sees.
	open func(t *testing.T) *service
}

// version is one version of a secret and its staging labels, sorted.
type version struct {
	ID     string
	Stages []string
}

// service is one isolated Secrets Manager.
type service struct {
	srv *smfake.Server // nil unless the backend is smfake
	// newClient returns an SDK client with its own connections; attempts >
	// 1 retries without sleeping.
	newClient func(attempts int) *secretsmanager.Client
	// enableRotation turns rotation on for secretName, created a moment
	// ago with no value.
	enableRotation func(t *testing.T, c *secretsmanager.Client)
	// startRotation does what RotateSecret does before it invokes the
	// rotation function: stage an AWSPENDING version with no value under
	// a new token, which it returns.
	startRotation func(t *testing.T, c *secretsmanager.Client) string
	// versions lists secretName's versions, in no particular order.
	versions func(t *testing.T, c *secretsmanager.Client) []version
	// overwritesPending is set for moto, which lets PutSecretValue replace
	// the value of a version labelled AWSPENDING (so that its own
	// RotateSecret's empty version can be filled) and so also a filled one.
	// Secrets Manager refuses that (ResourceExistsException: versions are
	// immutable), and createSecret relies on the refusal to elect one
	// winner among concurrent invocations, so that race cannot be run on
	// such a backend.
	overwritesPending bool
}

var smfakeBackend = secretsBackend{name: "smfake", open: func(t *testing.T) *service {
	srv := smfake.New(t)
	srv.SetNow(func() time.Time { return testNow })
	return &service{
		srv:            srv,
		newClient:      func(attempts int) *secretsmanager.Client { return newSDKClient(srv, attempts) },
		enableRotation: func(*testing.T, *secretsmanager.Client) {}, // RotateSecret enables it
		startRotation: func(t *testing.T, c *secretsmanager.Client) string {
			t.Helper()
			out, err := c.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{
				SecretId: aws.String(secretName), RotationLambdaARN: aws.String(lambdaARN),
			})
			if err != nil {
				t.Fatal(err)
			}
			return aws.ToString(out.VersionId)
		},
		versions: func(t *testing.T, _ *secretsmanager.Client) []version {
			var out []version
			for _, v := range srv.Versions(secretName) {
				out = append(out, version{ID: v.ID, Stages: v.Stages})
			}
			return out
		},
	}
}}

// motoServer serves every test of this package that uses motoBackend,
// each in its own AWS account.
var motoServer moto.Shared

func TestMain(m *testing.M) { os.Exit(motoServer.Run(m)) }

var motoBackend = secretsBackend{name: "moto", open: func(t *testing.T) *service {
	srv := motoServer.Get(t)
	hc := srv.HTTPClient() // one account for all clients of this service
	return &service{
		overwritesPending: true,
		newClient:         func(attempts int) *secretsmanager.Client { return sdkClient(srv.URL(), hc, attempts) },
		// moto turns rotation on when RotateSecret sets a schedule. Doing
		// that before the secret has a value matters: on a secret with a
		// value, RotateSecret without a function makes a new, empty
		// version AWSCURRENT at once.
		enableRotation: func(t *testing.T, c *secretsmanager.Client) {
			t.Helper()
			if _, err := c.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{
				SecretId: aws.String(secretName), RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)},
			}); err != nil {
				t.Fatalf("enable rotation: %v", err)
			}
		},
		// moto can only invoke a rotation function it hosts itself (in
		// Docker). Given one it does not have, it stages the AWSPENDING
		// version, then fails to find the function and answers
		// ResourceNotFoundException without undoing the staging: the
		// state Secrets Manager is in when it invokes the function. The
		// check after the call makes a moto that undoes it fail here,
		// loudly, rather than in some later step.
		startRotation: func(t *testing.T, c *secretsmanager.Client) string {
			t.Helper()
			token := newToken(t)
			_, err := c.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{
				SecretId: aws.String(secretName), RotationLambdaARN: aws.String(lambdaARN), ClientRequestToken: aws.String(token),
			})
			var nf *types.ResourceNotFoundException
			if !errors.As(err, &nf) {
				t.Fatalf("RotateSecret with a function moto does not host = %v, want ResourceNotFoundException", err)
			}
			out, err := c.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretName)})
			if err != nil {
				t.Fatal(err)
			}
			if st := out.VersionIdsToStages[token]; !slices.Equal(st, []string{"AWSPENDING"}) {
				t.Fatalf("moto did not stage AWSPENDING on %s: labels %v", token, out.VersionIdsToStages)
			}
			return token
		},
		versions: func(t *testing.T, c *secretsmanager.Client) []version {
			t.Helper()
			out, err := c.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretName)})
			if err != nil {
				t.Fatal(err)
			}
			var vs []version
			for id, st := range out.VersionIdsToStages {
				st = slices.Clone(st)
				sort.Strings(st)
				vs = append(vs, version{ID: id, Stages: st})
			}
			return vs
		},
	}
}}

// newToken is a ClientRequestToken in the UUID form Secrets Manager uses.
func newToken(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
