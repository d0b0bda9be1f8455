// Package browser holds the end-to-end tests of the whole login flow: a
// real Chromium, driven with chromedp, logs in through the real
// `samlflex serve` binary and a real third-party SAML IdP (samlify, started
// by test/e2e/samlidp), the way an agent does in production.
//
// The IdP listens on localhost and samlflex on 127.0.0.1: two different
// sites, so the IdP's auto-posted form is a cross-site top-level POST to
// the ACS, as Salesforce's is to the Lambda URL. A login cookie that is not
// SameSite=None would not come along and SP-initiated logins would fail;
// only a browser shows that. Chromium treats http://127.0.0.1 and
// http://localhost as secure contexts, so Secure cookies work over plain
// http here; TestCrossSiteCookies checks that premise on its own.
//
// The package has only tests. They import the standard library, chromedp,
// go-jose, test/e2e/samlidp and internal/flex/flextest (the Twilio
// stand-in, which imports none of samlflex's code), and must not import
// samlflex's own packages: they talk to the binary over HTTP, like a
// browser, an IdP and Twilio.
// Without Chromium (/usr/bin/chromium or $CHROMIUM) or Node.js the tests are
// skipped, or fail when CI=true.
//
// Run with `go test -artifacts ./test/e2e/browser` to keep the screenshots
// of failed tests (see testing.T.ArtifactDir).
package browser
