package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"time"
)

// Pair is one SP key with its self-signed certificate.
type Pair struct {
	// Kid identifies the key in JWKS and JWT headers.
	Kid         string
	Signer      crypto.Signer
	Certificate *x509.Certificate
	// CurrentSince is when the key became the current (signing) key. Zero
	// means never (a next key) or unknown (sets stored before the time was
	// recorded). The current key's value decides when the previous key
	// retires (see Retire).
	CurrentSince time.Time
	// Token is the P-256 key that signs session tokens (ES256) while this
	// pair is current, or nil in sets stored before token keys existed
	// (tokens are then RS256 with Signer). It lives in the pair so that a
	// rotation moves it through previous, current and next with the SAML
	// key: no second rotation schedule.
	Token *TokenKey
}

// TokenKey is a pair's session-token key. Signing a token with ECDSA P-256
// costs a fraction of an RSA-2048 signature; the RSA key stays the SAML
// key because IdPs (Salesforce) verify AuthnRequests with RSA-SHA256.
type TokenKey struct {
	// Kid is derived from the public key (KidFor), like Pair.Kid, and
	// differs from it: JWKS lists both keys.
	Kid    string
	Signer *ecdsa.PrivateKey
}

// Set is the SP's key set. Current signs AuthnRequests and session tokens
// (with its Token key when it has one);
// Next is published in metadata one rotation period before it is used;
// Previous still verifies tokens signed before the last rotation, until it
// retires (see Retire). Previous and Next may be nil.
type Set struct {
	Previous *Pair
	Current  *Pair
	Next     *Pair
}

// Source hands out the current key set.
type Source interface {
	// Keys returns the key set. Implementations cache.
	Keys(ctx context.Context) (*Set, error)
}
