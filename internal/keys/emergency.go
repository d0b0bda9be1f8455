package keys

import (
	"errors"
	"fmt"
	"time"
)

// Errors of the emergency operations.
var (
	// ErrRevokeCurrent: the current key cannot be revoked on its own,
	// because a set without a current key cannot sign anything. Replace it
	// first (RotateNow), then revoke it.
	ErrRevokeCurrent = errors.New("keys: the current key cannot be revoked without replacing it first")
)

// RotateNow returns the set after an emergency rotation at now, for a key
// that leaked: newCurrent signs from now on, newNext is published as the
// next key, and the old current key becomes previous, so sessions it signed
// keep working until it retires on the normal schedule (Retire). With
// retirePrevious it is dropped at once instead, which signs every agent
// out: the choice when the current key itself leaked.
//
// Unlike Rotate, the old next key is not promoted but dropped: all keys
// of a set live in the same secret or file, so whatever exposed the current
// key most likely exposed the next one too. The price is that IdPs which
// verify our request signatures (Salesforce's "Verify Request Signatures")
// do not know newCurrent yet (see docs/keys.md). The old previous key is
// dropped in both cases. s is not modified.
func (s *Set) RotateNow(newCurrent, newNext *Pair, now time.Time, retirePrevious bool) (*Set, error) {
	if newCurrent == nil || newNext == nil {
		return nil, errors.New("keys: rotate now: a new current and a new next key are required")
	}
	for _, old := range s.Verifying() {
		if old.Kid == newCurrent.Kid || old.Kid == newNext.Kid {
			return nil, errors.New("keys: rotate now: the new keys must be new")
		}
	}
	out := &Set{Current: newCurrent.promoted(now), Next: newNext}
	if !retirePrevious {
		out.Previous = s.Current
	}
	return out, nil
}

// Revoke returns s without the key kid, for every reader at once: the
// JWKS, the login-cookie keys and the metadata all come from the set. kid
// may also be a pair's token kid (what a JWT header shows): the pair goes,
// with both its keys.
//   - previous: dropped (tokens and login cookies it signed stop working);
//   - next: replaced by a key from newNext, so that the next rotation still
//     promotes a key that metadata published before it signs;
//   - current: refused with ErrRevokeCurrent;
//   - a kid not in the set: ErrUnknownKid.
//
// s is not modified.
func (s *Set) Revoke(kid string, newNext func() (*Pair, error)) (*Set, error) {
	switch {
	case s.Current != nil && s.Current.hasKid(kid):
		return nil, ErrRevokeCurrent
	case s.Previous != nil && s.Previous.hasKid(kid):
		return &Set{Current: s.Current, Next: s.Next}, nil
	case s.Next != nil && s.Next.hasKid(kid):
		kid = s.Next.Kid
		n, err := newNext()
		if err != nil {
			return nil, err
		}
		if n == nil || n.Kid == kid || (s.Previous != nil && n.Kid == s.Previous.Kid) || n.Kid == s.Current.Kid {
			return nil, errors.New("keys: revoke: the replacement next key must be new")
		}
		return &Set{Previous: s.Previous, Current: s.Current, Next: n}, nil
	}
	return nil, fmt.Errorf("%w: %q is not a key of the set", ErrUnknownKid, kid)
}

// hasKid reports whether kid names p's key or its token key.
func (p *Pair) hasKid(kid string) bool {
	return p.Kid == kid || (p.Token != nil && p.Token.Kid == kid)
}
