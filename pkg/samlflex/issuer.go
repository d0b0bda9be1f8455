package samlflex

import (
	"net/url"
	"strings"
)

// IssuerRule says how a response's Issuer matched the configured one.
type IssuerRule string

const (
	// IssuerExact: byte-for-byte equal.
	IssuerExact IssuerRule = "exact"
	// IssuerNormalized: equal after the Salesforce compatibility rule
	// (trailing slash, or a configured /idp/endpoint/HttpRedirect URL that
	// names its origin). Callers log it so that admins can tidy the setting.
	IssuerNormalized IssuerRule = "normalized"
)

// salesforceEndpointPaths are the Salesforce IdP endpoint paths that the
// Flex setup guide has admins paste as "Identity Provider Issuer". Salesforce
// itself puts the bare origin (https://yourdomain.my.salesforce.com) in the
// assertion's Issuer, so following the guide verbatim would otherwise fail
// every login. The signature by a trusted certificate stays mandatory: this
// rule only decides which issuer string names the same IdP.
var salesforceEndpointPaths = []string{"/idp/endpoint/httpredirect", "/idp/endpoint/httppost"}

// matchIssuer compares the configured issuer with the one in a response.
func matchIssuer(configured, got string) (IssuerRule, bool) {
	if got == "" {
		return "", false
	}
	if configured == got {
		return IssuerExact, true
	}
	if normalizeIssuer(configured) == normalizeIssuer(got) {
		return IssuerNormalized, true
	}
	return "", false
}

// normalizeIssuer drops trailing slashes and maps a Salesforce IdP endpoint
// URL to its origin. Scheme and host compare case-insensitively (RFC 3986
// 6.2.2.1); the path stays case-sensitive except for the endpoint suffix.
func normalizeIssuer(s string) string {
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return s
	}
	path := u.Path
	lower := strings.ToLower(path)
	for _, p := range salesforceEndpointPaths {
		if lower == p {
			path = ""
			break
		}
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + path
}
