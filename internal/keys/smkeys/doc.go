// Package smkeys is the keys.Source of the Lambda functions: the SP key set
// in one Secrets Manager secret (the JSON form of keys.Set), rotated by the
// rotation function in internal/rotate.
//
// Admin is the other side: the emergency writes of `samlflex keys` (a new
// current key at once, revoking a key), which follow the rotation
// function's rules for versions and staging labels.
//
// It and its smclient (the CLI's client builder) are the only packages
// under internal/keys that import the AWS SDK: SDK errors never leave smkeys
// as types (callers see keys.ErrUnavailable, keys.ErrNoKeys,
// keys.ErrInvalidSet or ErrConcurrentChange).
//
// Availability over freshness: the parsed set is cached for a TTL, and if
// Secrets Manager cannot be reached when the TTL expires the cached set keeps
// being served (logged at Warn), because a key that is a few minutes stale
// still signs valid requests while an outage of the key store would
// otherwise stop every login. Retirement (keys.Retire) is applied on every
// Keys call, not when the set is fetched, so a cached set loses its previous
// key on time too.
package smkeys
