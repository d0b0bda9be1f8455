// Package smfake is a test stand-in for the Secrets Manager JSON API. It
// speaks the wire protocol the AWS SDK uses (POST / with X-Amz-Target
// "secretsmanager.<Operation>", AWS JSON 1.1 bodies, errors as {"__type",
// "Message"}), so tests drive the real aws-sdk-go-v2 client against it and
// exercise serialization, error mapping and retries, not a mock of them.
//
// It implements the parts of the service samlflex relies on, faithfully:
// secret versions identified by ClientRequestToken, the staging labels
// AWSCURRENT, AWSPENDING and AWSPREVIOUS (moving AWSCURRENT gives the old
// holder AWSPREVIOUS; any label is on at most one version), PutSecretValue
// idempotent per ClientRequestToken (same data: a no-op; other data:
// ResourceExistsException, since versions are immutable), the empty AWSPENDING
// version RotateSecret creates before it invokes a rotation function, and
// ResourceNotFoundException for missing secrets and values. RotateSecret
// does not invoke any function: tests call the rotation steps themselves.
//
// A fault switch makes chosen operations fail (500 before or after applying
// the change, or throttling) so tests can prove that retries and re-runs are
// safe. Requests are applied one at a time and atomically, so a race
// between clients is decided by the documented conditions (a token names
// one version; RemoveFromVersionId must name the label's holder). A pause
// holds one chosen request before or after it is applied, so that a test
// can run another client inside that window instead of hoping a race hits
// it. The server listens on 127.0.0.1 only and is closed by t.Cleanup.
//
// Test-only: nothing outside _test.go files may import it. It does not
// import the AWS SDK, so the layering rule of internal/keys holds.
package smfake
