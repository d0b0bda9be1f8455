// Package demo is the local test kit of `samlflex dev`: a demo SAML identity
// provider that answers like Salesforce, and a demo landing page that stands
// in for the Flex agent desktop. Nothing else may import it, and it is never
// deployed: its users and password are printed on the terminal.
//
// It owns:
//
//   - the demo IdP under /demo/idp/ (IdP): it parses the HTTP-Redirect
//     AuthnRequest that the login link sends, shows a login form for the demo
//     users, and answers with a Salesforce-shaped SAML Response (signature on
//     the Response, right after its Issuer; NameID and the full_name, roles
//     and email attributes) posted to the ACS by an auto-submitting form. It
//     signs with github.com/russellhaering/goxmldsig, the library under
//     gosaml2, so the demo exercises a real XML-DSig signer rather than one
//     written for the occasion;
//   - the demo IdP's key and certificate in the data directory (IdPKey);
//   - the landing page at /demo/desktop and /demo/api/whoami, which verifies
//     the session token against the JWKS fetched over HTTP from the server's
//     /.well-known/jwks.json, the way a real relying party would (Desktop,
//     TokenVerifier). It parses the JWT with go-jose on its own rather than
//     calling internal/session, so that a bug in the issuer's code cannot
//     hide in a verifier that shares it.
//
// The IdP stays honest even though it is a toy: it signs only for the one
// account it is configured for, sends the response only to that account's
// ACS URL (never to an address taken from the request), and refuses
// AuthnRequests from any other service provider. Its pages say "TEST IdP —
// local only" in large letters so that nobody mistakes it for a real login.
//
// It must not import internal/httpapi, internal/store or an AWS SDK: the dev
// command wires it next to the real handler, and the demo must see the SP
// only from the outside (HTTP and SAML), as Salesforce and Flex do.
package demo
