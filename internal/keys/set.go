package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"
)

// Rotate returns the set after one rotation at now: Previous becomes the
// old Current, Current becomes the old Next (recorded as current since
// now, which starts the old Current's retirement clock), and Next becomes
// newNext. s is not modified (pairs are never mutated: the promoted pair is
// a copy).
//
// If s has no Next, newNext becomes Current directly and the result has no
// Next: putting the same pair in two slots would make a later rotation a
// no-op. Callers that want a pre-published key (the rotation function does)
// then set Next themselves.
func (s *Set) Rotate(newNext *Pair, now time.Time) *Set {
	if s.Next == nil {
		return &Set{Previous: s.Current, Current: newNext.promoted(now)}
	}
	return &Set{Previous: s.Current, Current: s.Next.promoted(now), Next: newNext}
}

// promoted returns a copy of p recorded as current since now.
func (p *Pair) promoted(now time.Time) *Pair {
	c := *p
	c.CurrentSince = now.UTC()
	return &c
}

// Published returns the pairs whose certificates go into SP metadata:
// Current (signs now) and Next (signs after the next rotation), so that
// IdPs that cache metadata already trust the next key when it takes over.
func (s *Set) Published() []*Pair {
	return nonNil(s.Current, s.Next)
}

// Verifying returns the pairs whose public keys verify our own tokens (the
// JWKS): Current, Previous (tokens issued just before a rotation) and Next.
func (s *Set) Verifying() []*Pair {
	return nonNil(s.Current, s.Previous, s.Next)
}

// ByKid returns the pair with key ID kid, or nil.
func (s *Set) ByKid(kid string) *Pair {
	for _, p := range s.Verifying() {
		if p.Kid == kid {
			return p
		}
	}
	return nil
}

// namedPair is a filled slot of a Set, named as in SetError.Slot.
type namedPair struct {
	name string
	p    *Pair
}

// filledSlots returns the slots of s that hold a pair, in the order
// previous, current, next.
func (s *Set) filledSlots() []namedPair {
	var out []namedPair
	for _, slot := range []namedPair{{"previous", s.Previous}, {"current", s.Current}, {"next", s.Next}} {
		if slot.p != nil {
			out = append(out, slot)
		}
	}
	return out
}

func nonNil(ps ...*Pair) []*Pair {
	out := make([]*Pair, 0, len(ps))
	for _, p := range ps {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// selfTestMessage is what Check signs; its content does not matter.
const selfTestMessage = "samlflex SP key self-test"

// Check verifies that s can be put into service at now: it has a Current
// pair that signs a test message verifiable with its certificate, and every
// certificate in it is valid at now. The rotation function runs it on a new
// version before making it current (testSecret), because a set that cannot
// sign would break every SP-initiated login.
func (s *Set) Check(now time.Time, rand io.Reader) error {
	if s == nil || s.Current == nil {
		return &SetError{Slot: "current", Reason: "is required"}
	}
	for _, slot := range s.filledSlots() {
		c := slot.p.Certificate
		if now.Before(c.NotBefore) {
			return &SetError{Slot: slot.name, Reason: fmt.Sprintf("certificate is not valid before %s", c.NotBefore.UTC().Format(time.RFC3339))}
		}
		if now.After(c.NotAfter) {
			return &SetError{Slot: slot.name, Reason: fmt.Sprintf("certificate expired on %s", c.NotAfter.UTC().Format(time.RFC3339))}
		}
	}
	if err := SelfTest(s.Current, rand); err != nil {
		return &SetError{Slot: "current", Reason: "cannot sign", Err: err}
	}
	return nil
}

// SelfTest signs a fixed message with p's key and verifies the signature
// with p's certificate, the way an IdP verifying our signature would.
func SelfTest(p *Pair, rand io.Reader) error {
	digest := sha256.Sum256([]byte(selfTestMessage))
	sig, err := p.Signer.Sign(rand, digest[:], crypto.SHA256)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	var alg x509.SignatureAlgorithm
	switch p.Certificate.PublicKeyAlgorithm {
	case x509.RSA:
		alg = x509.SHA256WithRSA
	case x509.ECDSA:
		alg = x509.ECDSAWithSHA256
	default:
		return errors.New("unsupported certificate key algorithm")
	}
	if err := p.Certificate.CheckSignature(alg, []byte(selfTestMessage), sig); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if p.Token != nil {
		// The token key signs every session token once this pair is
		// current: it must work too.
		sig, err := p.Token.Signer.Sign(rand, digest[:], crypto.SHA256)
		if err != nil {
			return fmt.Errorf("token key: sign: %w", err)
		}
		if !ecdsa.VerifyASN1(&p.Token.Signer.PublicKey, digest[:], sig) {
			return errors.New("token key: signature does not verify")
		}
	}
	return nil
}
