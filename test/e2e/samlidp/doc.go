// Package samlidp starts a real, third-party SAML 2.0 identity provider for
// end-to-end tests: the Node.js server in test/e2e/idp, built on the npm
// library samlify, that answers like Salesforce does as far as a service
// provider can see (HTTP-Redirect or HTTP-POST AuthnRequest in, a signed
// Response with an unsigned Assertion out through the HTTP-POST binding,
// NameID format unspecified, custom attributes full_name, roles and email).
//
// It exists so that the browser tests log in through signing, C14N and XML
// code that nobody on the team wrote. Fixtures signed by our own scripts
// prove that the verifier agrees with itself; a foreign IdP proves that it
// agrees with the world.
//
// Start(t, Options) generates a fresh RSA-2048 signing key and self-signed
// certificate, writes the users file, installs the Node dependencies with
// `npm ci` when node_modules is missing, runs `node server.js` on a free
// loopback port, and stops it (SIGTERM, then wait) when the test ends.
// Without node the test is skipped, or fails when CI=true, as for the
// DynamoDB tests against dynalite.
//
// Tests that play the browser with net/http rather than drive one read and
// submit the IdP's pages as HTML forms with Fetch, GetForm and Submit;
// SignIn walks an SP-initiated login from the SSO URL to the IdP's
// auto-post form.
//
// It owns only test helpers. It imports the standard library and testing,
// and must not import samlflex's own packages: a peer that shared code with
// the SP under test could share its bugs too.
package samlidp
