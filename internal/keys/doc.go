// Package keys owns the SP's signing keys: a Set of previous, current and
// next key pairs, its JSON form (as stored in Secrets Manager and in the
// local key file), generation of self-signed certificates, and the Source
// interface that the HTTP layer reads keys from.
//
// Must not import an AWS SDK (only smkeys does) nor net/http: the key model
// is shared by the Lambda functions, the rotation function and the local
// CLI, and must stay testable without a network.
//
// Each pair holds the SAML key (RSA, with its certificate) and, since
// issue 12, a P-256 token key that signs session tokens (ES256): a pair is
// the unit that rotates, so both move together. Pairs stored before token
// keys have none and their tokens are RS256.
//
// Why three keys: Salesforce and other IdPs read the SP certificate from
// metadata by hand, so a new key is published as Next one rotation period
// before it signs anything; Previous keeps verifying session tokens issued
// just before a rotation until they expire, and no longer: Retire drops it
// from every reader's view (JWKS, login-cookie keys) once the longest token
// lifetime plus a margin has passed since the current key's CurrentSince,
// which the stored set records. Emergency operations (a new current key at
// once, revoking a key) are in emergency.go and documented in docs/keys.md.
package keys
