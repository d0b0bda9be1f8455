package doctor

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// The login cookie's names: samlflex_login (Path = the account's saml2
// path) and, with the hardening, __Host-samlflex_login (Path=/). The
// __Host- prefix makes browsers refuse the cookie unless it is Secure,
// host-only and Path=/, so a sibling subdomain cannot plant or overwrite
// it (cookie tossing).
const (
	loginCookie     = "samlflex_login"
	hostPrefix      = "__Host-"
	hostLoginCookie = hostPrefix + loginCookie
)

// checkCookie checks the login cookie's attributes and returns the kid it
// was sealed with ("" if unreadable).
func (d *doctor) checkCookie(resp *http.Response) string {
	f := Finding{Check: "login.cookie", Expected: hostLoginCookie + " (or " + loginCookie + ") with Secure, HttpOnly, SameSite=None"}
	// The login link may also clear the legacy cookie (Max-Age<0, no
	// value) while setting the __Host- one: the cookie that counts is the
	// one set, __Host- first.
	var c *http.Cookie
	for _, line := range resp.Header.Values("Set-Cookie") {
		p, err := http.ParseSetCookie(line)
		if err != nil || p.MaxAge < 0 || p.Value == "" || (p.Name != loginCookie && p.Name != hostLoginCookie) {
			continue
		}
		if c == nil || p.Name == hostLoginCookie {
			c = p
		}
	}
	if c == nil {
		f.Status, f.Seen = StatusFail, "no login cookie"
		f.Fix = "without it every SP-initiated login ends in unknown_request (or is treated as unsolicited): " +
			"check that nothing between the browser and samlflex drops Set-Cookie (API Gateway HTTP API passes the cookies array through)"
		d.add(f)
		return ""
	}
	f.Seen = describeCookie(c)
	var missing []string
	if !c.Secure {
		missing = append(missing, "Secure")
	}
	if !c.HttpOnly {
		missing = append(missing, "HttpOnly")
	}
	if c.SameSite != http.SameSiteNoneMode {
		missing = append(missing, "SameSite=None")
	}
	switch {
	case len(missing) > 0:
		// SameSite=None: the IdP's POST to the ACS is a cross-site
		// top-level POST; browsers leave Lax cookies out of it. None
		// requires Secure. HttpOnly keeps scripts from reading it.
		f.Status = StatusFail
		f.Fix = "the login cookie lacks " + strings.Join(missing, ", ") + ": browsers would not send it with Salesforce's POST to the ACS " +
			"(or scripts could read it); check that no proxy or CDN rewrites Set-Cookie"
	case c.Name == hostLoginCookie && (c.Path != "/" || c.Domain != ""):
		// Browsers drop a __Host- cookie with another path or a Domain.
		f.Status = StatusFail
		f.Fix = "a " + hostPrefix + " cookie must have Path=/ and no Domain, or browsers drop it: check that no proxy rewrites Set-Cookie"
	case c.Name != hostLoginCookie:
		f.Status = StatusWarn
		f.Fix = "the cookie has no " + hostPrefix + " prefix (Path=/, host-only), so a sibling subdomain could plant one: upgrade samlflex to the release with the " + hostLoginCookie + " cookie"
	default:
		f.Status = StatusOK
	}
	d.add(f)
	return cookieKid(c.Value)
}

func describeCookie(c *http.Cookie) string {
	attrs := []string{c.Name, "Path=" + c.Path}
	if c.Domain != "" {
		attrs = append(attrs, "Domain="+c.Domain)
	}
	if c.Secure {
		attrs = append(attrs, "Secure")
	}
	if c.HttpOnly {
		attrs = append(attrs, "HttpOnly")
	}
	switch c.SameSite {
	case http.SameSiteNoneMode:
		attrs = append(attrs, "SameSite=None")
	case http.SameSiteLaxMode:
		attrs = append(attrs, "SameSite=Lax")
	case http.SameSiteStrictMode:
		attrs = append(attrs, "SameSite=Strict")
	}
	if c.MaxAge > 0 {
		attrs = append(attrs, fmt.Sprintf("Max-Age=%d", c.MaxAge))
	}
	return strings.Join(attrs, "; ")
}

// cookieKid reads the key id from the login cookie's payload
// (base64url JSON before the MAC). The format is samlflex's own; a cookie
// in another format gives "" and the JWKS check just says less.
func cookieKid(v string) string {
	p, _, ok := strings.Cut(v, ".")
	if !ok {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return ""
	}
	var st struct {
		Kid string `json:"k"`
	}
	if json.Unmarshal(raw, &st) != nil {
		return ""
	}
	return st.Kid
}
