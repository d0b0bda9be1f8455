package samlflex

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// URLs are the service provider's identifiers for one account, spelled
// exactly as the Flex setup guide has admins paste them into the Salesforce
// connected app.
type URLs struct {
	// EntityID is the connected app's "Entity Id" (the SAML Audience).
	EntityID string
	// ACS is the connected app's "ACS URL" (Destination and Recipient).
	ACS string
	// Login is the login link that agents open (SP-initiated login).
	Login string
	// Metadata serves the SP metadata; it is also the entity ID, as in the
	// guide.
	Metadata string
}

// Route paths. They are the one source for the router (which registers the
// patterns), URLsFor (which prefixes the base URL) and the login cookie
// (whose Path is the ACS path): if they disagreed, the cookie would not be
// sent to the ACS and every login would fail as unknown_request.
const (
	// PathJWKS serves the public keys of the session tokens.
	PathJWKS = "/.well-known/jwks.json"
	// PathHealthz answers "ok" for load balancers and doctor.
	PathHealthz = "/healthz"
	// sidPattern is the wildcard of the router's patterns.
	sidPattern = "{sid}"
)

// ACSPath is the path of an account's ACS (and the Path of its login
// cookie). Pass "{sid}" for the router pattern (see RoutePattern).
func ACSPath(sid string) string { return "/v1/Accounts/" + sid + "/saml2" }

// LoginPath is the path of an account's login link.
func LoginPath(sid string) string { return ACSPath(sid) + "/login" }

// MetadataPath is the path of an account's SP metadata (also its entity ID).
func MetadataPath(sid string) string { return ACSPath(sid) + "/metadata" }

// RoutePattern turns a per-account path builder into a net/http ServeMux
// pattern with a {sid} wildcard.
func RoutePattern(path func(sid string) string) string { return path(sidPattern) }

// BaseURL is a parsed public base URL: scheme, host and an optional path
// prefix, with no trailing slash, no query and no fragment.
type BaseURL struct {
	u *url.URL
}

// ParseBaseURL checks a public base URL (https://sso.example.com, maybe
// with a path prefix such as https://example.com/sso/) and normalises it:
// trailing slashes dropped, so that BASE + "/v1/..." never has "//". It
// refuses what cannot prefix the routes: no scheme or host, a scheme other
// than http(s), a query, a fragment, user info. Plain http is allowed here
// (see RequireSecureBaseURL for the rule that a public server adds).
func ParseBaseURL(raw string) (BaseURL, error) {
	bad := func(why string) (BaseURL, error) {
		return BaseURL{}, NewError(CodeInvalidConfig, "The base URL must be an absolute https:// URL such as https://sso.example.com, without query or fragment.", fmt.Errorf("base URL %q: %s", raw, why))
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return bad("does not parse")
	case u.Scheme != "https" && u.Scheme != "http":
		return bad("scheme is not https or http")
	case u.Host == "" || u.Hostname() == "":
		return bad("no host")
	case u.User != nil:
		return bad("has user info")
	case u.RawQuery != "" || u.ForceQuery:
		return bad("has a query")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return bad("has a fragment")
	case u.Opaque != "":
		return bad("is not hierarchical")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return BaseURL{u: u}, nil
}

// String is the normalised base URL, without a trailing slash.
func (b BaseURL) String() string {
	if b.u == nil {
		return ""
	}
	return b.u.String()
}

// Loopback reports whether the host is this computer only (localhost,
// 127.0.0.0/8, ::1).
func (b BaseURL) Loopback() bool { return b.u != nil && IsLoopbackHost(b.u.Hostname()) }

// Insecure reports plain http.
func (b BaseURL) Insecure() bool { return b.u != nil && b.u.Scheme == "http" }

// IsLoopbackHost: localhost, 127.0.0.0/8 or ::1.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RequireSecureBaseURL is ParseBaseURL plus the rule of a server that
// browsers reach: plain http only on loopback. The login cookie is Secure
// (and __Host-); browsers drop it over http from any other host, and every
// login would then fail as unknown_request, which points everywhere but at
// the base URL. Browsers treat loopback as secure, so local runs work.
func RequireSecureBaseURL(raw string) (BaseURL, error) {
	b, err := ParseBaseURL(raw)
	if err != nil {
		return BaseURL{}, err
	}
	if b.Insecure() && !b.Loopback() {
		return BaseURL{}, NewError(CodeInvalidConfig, "plain http:// is accepted only for this computer (localhost, 127.0.0.1, ::1): browsers drop samlflex's Secure login cookie over http, so every login would fail (as unknown_request). Use https://, with a TLS proxy in front.", fmt.Errorf("base URL %q: plain http on a non-loopback host", raw))
	}
	return b, nil
}

// URLs derives an account's identifiers from the base URL.
func (b BaseURL) URLs(accountSID string) (URLs, error) {
	if !ValidAccountSID(accountSID) {
		return URLs{}, Errorf(CodeInvalidConfig, "account SID %q has the wrong shape", accountSID)
	}
	base := b.String()
	return URLs{
		EntityID: base + MetadataPath(accountSID),
		ACS:      base + ACSPath(accountSID),
		Login:    base + LoginPath(accountSID),
		Metadata: base + MetadataPath(accountSID),
	}, nil
}

// URLsFor derives the identifiers from a base URL (see ParseBaseURL) and an
// Account SID.
func URLsFor(baseURL, accountSID string) (URLs, error) {
	if !ValidAccountSID(accountSID) {
		return URLs{}, Errorf(CodeInvalidConfig, "account SID %q has the wrong shape", accountSID)
	}
	b, err := ParseBaseURL(baseURL)
	if err != nil {
		return URLs{}, err
	}
	return b.URLs(accountSID)
}
