package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// The login cookie binds an SP-initiated login to the browser that started
// it, without a database write: it carries the AuthnRequest ID, signed with
// an HMAC key derived from the SP's current private key, and that key's kid.
// Any key of the set verifies it (a rotation does not break logins in
// flight), and an unknown kid refreshes the keys once: right after a
// rotation, the Lambda instance that receives the ACS post may still cache
// the key set from before it. It is HttpOnly, Secure and SameSite=None: the
// IdP's POST to the ACS is a cross-site top-level POST, and a Lax cookie
// would not be sent with it.
//
// It is a __Host- cookie with Path=/: the browser then refuses it unless
// it is Secure, host-only and for the whole host, so a sibling subdomain
// cannot plant one, and a base URL with a path prefix (https://host/sso,
// whose ACS the browser sees as /sso/v1/...) still gets it back; the
// handler only sees the path after the proxy stripped the prefix, so it
// cannot name the browser's path itself. The account SID inside it keeps
// it to one account.
const loginCookie = "__Host-samlflex_login"

// legacyLoginCookie is the name before the __Host- cookie, scoped to the
// account's ACS path. It is still read (and cleared) so that logins in
// flight during an upgrade finish; remove it one release later.
const legacyLoginCookie = "samlflex_login"

// bounceWindow is how long after a bounce another unsolicited response
// counts as a loop. With an IdP session the round trip takes seconds; the
// window keeps an abandoned bounce from blocking a later App Launcher click.
const bounceWindow = 2 * time.Minute

// maxCookieRelay bounds the RelayState target carried in the cookie, so
// the cookie stays far below the browsers' 4 KB limit.
const maxCookieRelay = 1024

type loginState struct {
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
}

// recentlyBounced reports whether the browser was sent to the IdP by a
// bounce less than bounceWindow ago.
func (st loginState) recentlyBounced(now time.Time) bool {
	return st.Bounced != 0 && now.Unix()-st.Bounced < int64(bounceWindow/time.Second)
}

// cookiePath is the ACS path: the browser sends the cookie to the ACS only.
func cookiePath(sid string) string { return samlflex.ACSPath(sid) }

// macKey derives the cookie key from a key pair. Domain separation keeps
// it distinct from any signature the same key makes.
func macKey(p *keys.Pair) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(p.Signer)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, der)
	m.Write([]byte("samlflex login cookie v1"))
	return m.Sum(nil), nil
}

func sealLogin(set *keys.Set, st loginState) (string, error) {
	st.Kid = set.Current.Kid
	key, err := macKey(set.Current)
	if err != nil {
		return "", err
	}
	payload, _ := json.Marshal(st)
	p := base64.RawURLEncoding.EncodeToString(payload)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(p))
	return p + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

var errBadCookie = errors.New("login cookie invalid")

// openLogin returns the state of a valid cookie for sid. keyFor
// resolves the kid named in the cookie to a key of the set (or nil).
func openLogin(keyFor func(kid string) *keys.Pair, value, sid string, now time.Time) (loginState, error) {
	var none loginState
	p, sig, ok := strings.Cut(value, ".")
	if !ok {
		return none, errBadCookie
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return none, errBadCookie
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return none, errBadCookie
	}
	var st loginState
	if err := json.Unmarshal(raw, &st); err != nil {
		return none, errBadCookie
	}
	// The kid only picks the key; the MAC below decides. A forged kid
	// names no key of ours or the wrong one, and the MAC fails.
	pair := keyFor(st.Kid)
	if pair == nil {
		return none, errors.New("login cookie sealed with an unknown key")
	}
	key, err := macKey(pair)
	if err != nil {
		return none, errBadCookie
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(p))
	if !hmac.Equal(mac, m.Sum(nil)) {
		return none, errBadCookie
	}
	if st.AccountSID != sid {
		return none, errors.New("login cookie of another account")
	}
	if now.Unix() >= st.Expires {
		return none, errors.New("login cookie expired")
	}
	return st, nil
}

func setLoginCookie(w http.ResponseWriter, value string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: value, Path: "/",
		MaxAge: int(ttl / time.Second), HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode})
}

// clearLoginCookies ends the login attempt: the __Host- cookie always, the
// legacy one only if the browser sent it.
func clearLoginCookies(w http.ResponseWriter, r *http.Request, sid string) {
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/",
		MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode})
	clearLegacyCookie(w, r, sid)
}

// clearLegacyCookie drops the pre-__Host- cookie if the browser sent it.
func clearLegacyCookie(w http.ResponseWriter, r *http.Request, sid string) {
	if _, err := r.Cookie(legacyLoginCookie); err == nil {
		http.SetCookie(w, &http.Cookie{Name: legacyLoginCookie, Value: "", Path: cookiePath(sid),
			MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode})
	}
}
