package keys

import "time"

// Retirement bounds. MaxTokenLifetime must be at least the longest session
// token an account may configure (pkg/samlflex caps token_ttl at 24h; a
// test keeps the two equal). The margin covers clock skew between the
// instances that sign and those that verify.
const (
	MaxTokenLifetime    = 24 * time.Hour
	DefaultRetireMargin = time.Hour
)

// PreviousRetiresAt returns when s.Previous stops verifying: the time the
// current key became current plus the longest token lifetime plus margin.
// By then every token and login cookie the previous key signed has expired,
// so keeping it longer only widens what a leak of it would allow.
//
// ok is false when there is nothing to retire (no previous key) or when the
// time is unknown: a set stored before samlflex recorded CurrentSince keeps
// its previous key until the next rotation pushes it out, as before,
// because guessing could cut off live sessions.
func PreviousRetiresAt(s *Set, maxTokenLifetime, margin time.Duration) (at time.Time, ok bool) {
	if s == nil || s.Previous == nil || s.Current == nil || s.Current.CurrentSince.IsZero() {
		return time.Time{}, false
	}
	return s.Current.CurrentSince.Add(maxTokenLifetime + margin), true
}

// Retire returns the set as it serves at now: s itself while its previous
// key may still have live tokens, and a copy without Previous once
// PreviousRetiresAt has passed. It is a pure function of its arguments (the
// caller's clock gives now), so every reader of a key set, the JWKS and the
// login-cookie keys alike, retires the key at the same moment. s is not
// modified.
func Retire(s *Set, now time.Time, maxTokenLifetime, margin time.Duration) *Set {
	at, ok := PreviousRetiresAt(s, maxTokenLifetime, margin)
	if !ok || now.Before(at) {
		return s
	}
	return &Set{Current: s.Current, Next: s.Next}
}
