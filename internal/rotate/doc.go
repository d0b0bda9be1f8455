// Package rotate is the logic of the Secrets Manager rotation function for
// the SP key secret: the four steps Secrets Manager invokes with the same
// ClientRequestToken (createSecret, setSecret, testSecret, finishSecret),
// over a four-method SecretsAPI that *secretsmanager.Client satisfies.
//
// Must not import net/http nor internal/httpapi: functions/rotate only
// wires the SDK client, a logger and os.Stdout (for metrics) to Handle.
//
// Safety model, as in the AWS rotation template: every step first checks
// that rotation is enabled and that the token names a version staged
// AWSPENDING (a token already AWSCURRENT means the rotation is done and the
// step does nothing). Each step is idempotent, because Secrets Manager
// retries a failed rotation by invoking the steps again with the same
// token: createSecret never replaces a pending value that exists,
// finishSecret moves AWSCURRENT only if it is not already on the token, and
// the one side effect outside Secrets Manager (the "sp_key_rotated" event
// and its metric) is tied to a staging-label change so a re-run does not
// repeat it.
//
// Steps are also safe to run concurrently, since Secrets Manager may invoke
// one again while the first invocation still runs, on another Lambda
// instance. No lock is needed: the service's own conditions decide every
// race, and the loser treats the winner's work as its own instead of
// failing (a failure would count in SPKeyRotationFailures, which alarms).
// The first PutSecretValue under the token wins (createSecret adopts the
// winner's version); the move of AWSCURRENT names the version it takes the
// label from, so only one succeeds; removing AWSPENDING from the new current
// version succeeds once and elects the one invocation that announces.
// A step that finds the version made AWSCURRENT under it stops there. Key
// generation stays random per invocation: keys are never derived from the
// token, which is not secret.
//
// The secret value is a keys.Set. One rotation turns
// {previous: A, current: B, next: C} into {previous: B, current: C, next: D}
// with D new: C was published in metadata as the next key a whole rotation
// period before it starts signing, and is recorded as current since the
// rotation (createSecret's clock), which is when B's retirement clock starts.
package rotate
