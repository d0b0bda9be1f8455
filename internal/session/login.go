package session

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
)

// The login cookie binds an SP-initiated login to the browser that started
// it, without a database write: it carries the AuthnRequest ID, signed with
// an HMAC key derived from the SP's current private key, and that key's kid.
// Any key of the set verifies it (a rotation does not break logins in
// flight). It lives here, next to the session tokens, because both are
// sealed with the SP key set; the cookie's name and attributes are HTTP
// and stay in internal/httpapi.

// BounceWindow is how long after a bounce another unsolicited response
// counts as a loop. With an IdP session the round trip takes seconds; the
// window keeps an abandoned bounce from blocking a later App Launcher click.
const BounceWindow = 2 * time.Minute

// MaxLoginRelay bounds the RelayState target carried in the cookie, so
// the cookie stays far below the browsers' 4 KB limit.
const MaxLoginRelay = 1024

// LoginState is what the login cookie carries.
type LoginState struct {
	RequestID  string `json:"r"`
	AccountSID string `json:"a"`
	Expires    int64  `json:"e"`
	Kid        string `json:"k"`
	// Bounced is the Unix time at which the ACS answered an unsolicited
	// response with this login (0: the login link started it).
	Bounced int64 `json:"b,omitempty"`
	// Relay is the allowlisted RelayState of the bounced unsolicited
	// response, used when the answer to this login carries none.
	Relay string `json:"t,omitempty"`
	// Epoch is the store's replay epoch when the login started: the
	// answer to a login of an older epoch may have been used before a
	// crash that lost its record (internal/acs).
	Epoch int64 `json:"p,omitempty"`
}

// RecentlyBounced reports whether the browser was sent to the IdP by a
// bounce less than BounceWindow ago.
func (st LoginState) RecentlyBounced(now time.Time) bool {
	return st.Bounced != 0 && now.Unix()-st.Bounced < int64(BounceWindow/time.Second)
}

// ErrBadLoginCookie is a login cookie that is malformed or whose MAC fails.
var ErrBadLoginCookie = errors.New("login cookie invalid")

// loginMACKey derives the cookie key from a key pair. Domain separation
// keeps it distinct from any signature the same key makes.
func loginMACKey(p *keys.Pair) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(p.Signer)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, der)
	m.Write([]byte("samlflex login cookie v1"))
	return m.Sum(nil), nil
}

// LoginKeys seals and opens login cookies, remembering the MAC key it
// derived from each key pair: the derivation encodes the private key
// (about 30 µs for RSA-2048), and a login needs the key twice, for the
// link and at the ACS. The cache is keyed by the *keys.Pair, not its kid,
// so a pair read again after a key refresh derives again and a different
// key presented under a known kid never gets another pair's MAC key. The
// zero value is ready; a nil *LoginKeys derives every time. Safe for
// concurrent use.
type LoginKeys struct {
	mu sync.Mutex
	m  map[*keys.Pair][]byte
}

// maxLoginKeys bounds the cache: a set holds three pairs, and each key
// refresh may bring new *Pair values; past the bound the cache starts
// again, so retired pairs are not kept alive.
const maxLoginKeys = 16

func (k *LoginKeys) macKey(p *keys.Pair) ([]byte, error) {
	if k == nil {
		return loginMACKey(p)
	}
	k.mu.Lock()
	key, ok := k.m[p]
	k.mu.Unlock()
	if ok {
		return key, nil
	}
	key, err := loginMACKey(p)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	if k.m == nil || len(k.m) >= maxLoginKeys {
		k.m = make(map[*keys.Pair][]byte, 4)
	}
	k.m[p] = key
	k.mu.Unlock()
	return key, nil
}

// Seal returns the cookie value for st, MACed with the set's current key
// (st.Kid is overwritten with its kid).
func (k *LoginKeys) Seal(set *keys.Set, st LoginState) (string, error) {
	if set == nil || set.Current == nil {
		return "", errors.New("session: no current key")
	}
	st.Kid = set.Current.Kid
	key, err := k.macKey(set.Current)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	p := base64.RawURLEncoding.EncodeToString(payload)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(p))
	return p + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// Open returns the state of a valid cookie value for account sid. keyFor
// resolves the kid named in the cookie to a key (or nil); the caller
// decides whether an unknown kid may refresh its key set.
func (k *LoginKeys) Open(keyFor func(kid string) *keys.Pair, value, sid string, now time.Time) (LoginState, error) {
	var none LoginState
	p, sig, ok := strings.Cut(value, ".")
	if !ok {
		return none, ErrBadLoginCookie
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return none, ErrBadLoginCookie
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return none, ErrBadLoginCookie
	}
	var st LoginState
	if err := json.Unmarshal(raw, &st); err != nil {
		return none, ErrBadLoginCookie
	}
	// The kid only picks the key; the MAC below decides. A forged kid
	// names no key of ours or the wrong one, and the MAC fails.
	pair := keyFor(st.Kid)
	if pair == nil {
		return none, errors.New("login cookie sealed with an unknown key")
	}
	key, err := k.macKey(pair)
	if err != nil {
		return none, ErrBadLoginCookie
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(p))
	if !hmac.Equal(mac, m.Sum(nil)) {
		return none, ErrBadLoginCookie
	}
	if st.AccountSID != sid {
		return none, errors.New("login cookie of another account")
	}
	if now.Unix() >= st.Expires {
		return none, errors.New("login cookie expired")
	}
	return st, nil
}
