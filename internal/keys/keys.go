package keys

import (
	"context"
	"crypto"
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
}

// Set is the SP's key set. Current signs AuthnRequests and session tokens;
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
