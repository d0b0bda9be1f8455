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
// # smfake or moto
//
// moto_server (internal/awsfake/moto) is a maintained Secrets Manager
// emulator, and the flows that need nothing more run on both, with the
// same checks, so that smfake is held to it: internal/rotate's
// TestRotationOnBackends (all four steps, re-runs, concurrent invocations
// of setSecret/testSecret/finishSecret, refusals) and
// TestTestSecretRejectsBadPendingVersion, and internal/keys/smkeys'
// TestAdminAgainstMoto (rotate now, revoke, cancelling a rotation, a
// concurrent change). smfake stays for what moto cannot do:
//
//   - A fault at one chosen call (Fail, FailLater, SetDown): rotate's
//     TestRerunAfterFailure and TestClearPendingOutcomes; smkeys'
//     TestServesCachedSetWhileSecretsManagerIsDown and
//     TestColdStartWhileSecretsManagerIsDown; awsapp's
//     TestSecretsManagerDownKeepsLoginsGoing.
//   - Holding one request before or after it is applied (Pause): rotate's
//     TestInterleavings, TestCreateSecretAdoptsOnlyARotation and
//     TestClearPendingOutcomes; smkeys' TestAdminRefusesConcurrentChange.
//   - Counting requests (Requests): rotate's TestRerunAfterFailure and
//     TestFinishIsIdempotent; smkeys' TestCache and TestKeyForKid; awsapp's
//     TestWarmLoginCost; test/lambda's figures and the call recorder that
//     derives the least-privilege IAM policy.
//   - Every version, labelled or not (Versions), to prove no duplicate
//     was stored: rotate's checkFinalVersions, smkeys' admin tests.
//   - Rules where moto differs from Secrets Manager: moto lets
//     PutSecretValue replace the value of a version labelled AWSPENDING, so
//     the race of concurrent createSecret invocations (rotate's
//     TestConcurrentStep, TestConcurrentRotations) is decided by smfake's
//     refusal (ResourceExistsException), as by the service; moto's
//     RotateSecret cannot stage an empty AWSPENDING version on a secret
//     with no value, so rotation seeding an empty secret
//     (TestFullRotation's last case) runs on smfake.
//   - A clock (SetNow) for the dates it returns: awsapp's
//     TestRotationsAtLongestPeriod and TestKeySetAge.
//
// cmd/samlflex's keys and doctor tests use smfake for plain calls only and
// could move to moto.
//
// It lives in internal/awsfake beside moto (the moto_server starter), the
// other stand-in for AWS services. Test-only: nothing outside _test.go
// files may import it. It does not import the AWS SDK.
package smfake
