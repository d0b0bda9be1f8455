package keys

import "errors"

// Sentinel errors. Sources wrap them with %w so that callers can branch on
// errors.Is without knowing which backend is in use.
var (
	// ErrUnavailable: the key store could not be read and no cached key set
	// exists. The HTTP layer answers 503: retrying later may work.
	ErrUnavailable = errors.New("keys: key store unavailable")
	// ErrNoKeys: the key store holds no key set and the source is not
	// allowed to create one.
	ErrNoKeys = errors.New("keys: no key set stored")
	// ErrInvalidSet: a stored key set is malformed or inconsistent. Never
	// overwritten automatically: a human must look at it.
	ErrInvalidSet = errors.New("keys: invalid key set")
	// ErrUnknownKid: no key of the set has the requested key ID.
	ErrUnknownKid = errors.New("keys: unknown key ID")
)

// SetError says which slot of a key set is wrong and why. Its text never
// contains key material, so it is safe to log.
type SetError struct {
	// Slot is "previous", "current", "next" or "" for the whole set.
	Slot string
	// Reason is a fixed sentence.
	Reason string
	// Err is the underlying parse error, if any (x509/PKCS#8 errors name
	// ASN.1 structure problems, never key bytes).
	Err error
}

func (e *SetError) Error() string {
	msg := "keys: invalid key set: "
	if e.Slot != "" {
		msg += e.Slot + ": "
	}
	msg += e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *SetError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrInvalidSet) true for every *SetError.
func (e *SetError) Is(target error) bool { return target == ErrInvalidSet }
