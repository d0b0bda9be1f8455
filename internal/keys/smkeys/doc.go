// Package smkeys is the keys.Source of the Lambda functions: the SP key set
// in one Secrets Manager secret (the JSON form of keys.Set), rotated by the
// rotation function in internal/rotate.
//
// It is the only package under internal/keys that imports the AWS SDK, and
// only the secretsmanager types: SDK errors never leave it (callers see
// keys.ErrUnavailable, keys.ErrNoKeys or keys.ErrInvalidSet).
//
// Availability over freshness: the parsed set is cached for a TTL, and if
// Secrets Manager cannot be reached when the TTL expires the cached set keeps
// being served (logged at Warn), because a key that is a few minutes stale
// still signs valid requests while an outage of the key store would
// otherwise stop every login.
package smkeys
