// Package samlflex is the core of samlflex: it decides whether a SAML
// Response lets a person into Flex, and who they are.
//
// It owns the account configuration model (Account, Validate), the SP
// identifiers derived from a base URL (URLsFor), response verification
// (Verifier.Verify: signature, issuer, audience, destination, recipient,
// time window, InResponseTo), the mapping of attributes to a Flex identity
// (Map, ParseRoles), SP-initiated AuthnRequests (NewAuthnRequest), SP
// metadata (Metadata) and the one error type with stable codes (Error).
// A refusal carries the decision trace (Trace, trace.go): every check with
// the expected and the received value, which the error page, the log and
// `samlflex account check` all show.
//
// It must not import an AWS SDK, aws-lambda-go, net/http, internal/... or
// a logger: it does no I/O and never logs, so that the same rules run in
// the Lambda functions, the local server and the CLI, and so that it can be
// tested with a pinned clock and golden files alone. Callers log the
// details that errors carry.
//
// The core knows neither HTTP nor the CLI. An error carries a Code, and
// the catalogue (Codes) gives each code a public message and a neutral
// Class; internal/httpapi maps a class to an HTTP status. A public message tells an admin what to change, and the
// rule for naming it is: a setting is named by its stored name, the JSON
// name of the Account field (max_authn_age, idp_initiated,
// flex.instance_sid), which every tool shows and maps to its own flag; a
// message never names an HTTP status, a CLI command or a command-line
// flag, since those belong to the layers above and change with them
// (TestPublicMessagesNameNoLayer checks it).
//
// XML signatures are verified by samlflex itself (dsig.go, c14n.go), in
// the one shape the SAML profile allows: an enveloped signature with one
// Reference, exclusive c14n, RSA or ECDSA with SHA-2 (SHA-1 on request).
// Until issue 12 this was goxmldsig (the library under gosaml2); its
// generality cost six times the work of the physical floor (a copy of the
// tree, namespace contexts copied at every element, a serialize and
// re-parse of the signed element, a round-trip re-encoding of every token),
// and samlflex used none of it. The replacement is held to independent
// implementations: its canonical form equals libxml2's (xmllint), the golden
// responses are signed by xmlsec1, a real Salesforce capture verifies, and
// the fuzz tests check that whatever it accepts goxmldsig accepts too and
// that the tree it reads is the canonical form it verified.
//
// It parses each response once (parse.go) and adds what XML-DSig leaves to
// its callers: size cap, bounded XML work before any tree exists
// (limits.go), namespace well-formedness in place of a round-trip check, DTD
// refusal, strict SAML 2.0 structure (structure.go), exactly one assertion,
// algorithm allow-list, signature failures classified from facts
// (sigcheck.go), fail-closed time and age checks (lifetime.go) and reading
// only from the signed element.
package samlflex
