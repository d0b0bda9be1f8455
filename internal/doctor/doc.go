// Package doctor checks a running samlflex from the outside, the way an
// admin would after `cdk deploy` or before a go-live: TLS, /healthz, the SP
// metadata, the JWKS, the login link (its redirect, AuthnRequest and login
// cookie), the server's clock and, with AWS credentials, the key secret's
// rotation. Each check returns Findings that say what was seen, what was
// expected and what to fix; `samlflex doctor` prints them.
//
// It only uses what any client sees (HTTP answers) plus, optionally,
// Secrets Manager's DescribeSecret (the one AWS SDK client it builds, from
// the default credential chain, in awsclient.go). It must not import the server's
// packages (internal/httpapi, internal/keys, ...): a check that shares the
// server's code would share its bugs, and the point is to look from
// outside. It imports pkg/samlflex only for URLsFor, the one definition of
// the SP's URLs that admins paste into Salesforce.
//
// No global state: the clock, the HTTP transport, the Secrets Manager
// client and the logger are in Config.
package doctor
