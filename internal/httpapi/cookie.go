package httpapi

import (
	"net/http"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// The login cookie binds an SP-initiated login to the browser that started
// it; its sealed value is internal/session's (LoginKeys.Seal and Open) and
// internal/acs decides what it means. This file owns only its HTTP form.
// It is HttpOnly, Secure and SameSite=None: the IdP's POST to the ACS is a
// cross-site top-level POST, and a Lax cookie would not be sent with it.
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
// account's ACS path. It is cleared when a browser still sends it, and
// never read: without the __Host- prefix a sibling subdomain, or a network
// attacker answering plain http on this host, can plant one, and a planted
// login cookie (anyone can get a sealed value from the login link) binds
// the victim's browser to the attacker's login: login CSRF. A login in
// flight during the upgrade answers unknown_request and starts again.
const legacyLoginCookie = "samlflex_login"

// cookiePath is the legacy cookie's path (the ACS path without a base-URL
// prefix), where it is cleared.
func cookiePath(sid string) string { return samlflex.ACSPath(sid) }

// loginCookieValue returns the value of the browser's __Host- login
// cookie, or "" when it sent none.
func loginCookieValue(r *http.Request) string {
	if c, err := r.Cookie(loginCookie); err == nil {
		return c.Value
	}
	return ""
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
