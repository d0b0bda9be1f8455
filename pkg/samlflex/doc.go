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
// XML signatures are verified with github.com/russellhaering/goxmldsig
// (the library under gosaml2); samlflex never hand-rolls XML-DSig or c14n.
// It parses each response once and adds what the library leaves to its
// callers: size cap, bounded XML work before any tree or signature code
// (limits.go), round-trip check, DTD refusal, strict SAML 2.0 structure
// (structure.go), exactly one assertion, algorithm allow-list, signature
// failures classified from facts it establishes itself (sigcheck.go),
// fail-closed time and age checks (lifetime.go) and reading only from the
// signed bytes.
package samlflex
