package main

import (
	"net/url"
	"strings"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// settingWarnings names settings that are valid but probably not what the
// admin meant. They do not stop the save: each can be right for some IdP,
// and Validate owns the hard rules.
func settingWarnings(acct samlflex.Account) []problem {
	var ws []problem
	warn := func(field, msg string) {
		ws = append(ws, problem{Field: field, Flag: flagFor(field, acct, nil), Message: msg})
	}
	if iss := acct.IdPIssuer; iss != "" && !strings.Contains(iss, "://") && !strings.HasPrefix(iss, "urn:") {
		warn("idp_issuer", "has no scheme; Salesforce's Issuer is a URL such as https://yourdomain.my.salesforce.com, and must match the response exactly")
	}
	if u, err := url.Parse(acct.IdPSSOURL); err == nil && strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/HttpPost") {
		warn("idp_sso_url", "ends in HttpPost, but samlflex sends its login request by HTTP-Redirect: use the .../idp/endpoint/HttpRedirect URL")
	}
	if u, err := url.Parse(acct.StartURL); err == nil && u.Fragment != "" {
		warn("start_url", "has a #fragment, which samlflex replaces with #token=... when it sends agents there: put deep links in the path or query")
	}
	sortProblems(ws)
	return ws
}
