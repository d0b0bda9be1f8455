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
)

// The login cookie binds an SP-initiated login to the browser that started
// it, without a database write: it carries the AuthnRequest ID, signed with
// an HMAC key derived from the SP's current private key, and that key's kid.
// Any key of the set verifies it (a rotation does not break logins in
// flight), and an unknown kid refreshes the keys once: right after a
// rotation, the Lambda instance that receives the ACS post may still cache
// the key set from before it. It is HttpOnly,
// Secure and SameSite=None: the IdP's POST to the ACS is a cross-site
// top-level POST, and a Lax cookie would not be sent with it. Its path is
// the account's saml2 path, so it goes only to that account's ACS.
const loginCookie = "samlflex_login"

type loginState struct {
	RequestID  string `json:"r"`
	AccountSID string `json:"a"`
	Expires    int64  `json:"e"`
	Kid        string `json:"k"`
}

func cookiePath(sid string) string { return "/v1/Accounts/" + sid + "/saml2" }

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

// openLogin returns the request ID of a valid cookie for sid. keyFor
// resolves the kid named in the cookie to a key of the set (or nil).
func openLogin(keyFor func(kid string) *keys.Pair, value, sid string, now time.Time) (string, error) {
	p, sig, ok := strings.Cut(value, ".")
	if !ok {
		return "", errBadCookie
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return "", errBadCookie
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return "", errBadCookie
	}
	var st loginState
	if err := json.Unmarshal(raw, &st); err != nil {
		return "", errBadCookie
	}
	// The kid only picks the key; the MAC below decides. A forged kid
	// names no key of ours or the wrong one, and the MAC fails.
	pair := keyFor(st.Kid)
	if pair == nil {
		return "", errors.New("login cookie sealed with an unknown key")
	}
	key, err := macKey(pair)
	if err != nil {
		return "", errBadCookie
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(p))
	if !hmac.Equal(mac, m.Sum(nil)) {
		return "", errBadCookie
	}
	if st.AccountSID != sid {
		return "", errors.New("login cookie of another account")
	}
	if now.Unix() >= st.Expires {
		return "", errors.New("login cookie expired")
	}
	return st.RequestID, nil
}

func setLoginCookie(w http.ResponseWriter, sid, value string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: value, Path: cookiePath(sid),
		MaxAge: int(ttl / time.Second), HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode})
}

func clearLoginCookie(w http.ResponseWriter, sid string) {
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: cookiePath(sid),
		MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode})
}
