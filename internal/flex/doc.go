// Package flex signs a user into Twilio Flex after a SAML login. It
// provisions the Flex user (which creates its TaskRouter worker) and mints a
// Flex user token (a JWE) that the Flex SDK's createClient accepts, over
// plain net/http with the account's API key or Auth Token. It owns the retry policy for
// those calls and the mapping of Twilio errors to *samlflex.Error.
//
// It must not import an AWS SDK, a Twilio SDK, internal/httpapi or any
// other service package: the ACS use case and the CLI (`samlflex flex
// check`) call it with the account's credentials, and its stand-in for
// tests is the sub-package flextest.
//
// # Where the shapes come from
//
// Every path, method, field and code is taken from Twilio's pages, listed
// with each behaviour (documented or assumed) in docs/flex.md: "Flex Users
// API (public beta)", "Flex User Token API (public beta)", "Create a Flex
// instance programmatically" (the v2 instance read), "Flex SDK
// authentication (public beta)", "Twilio API requests", "Twilio API
// responses", and the error pages of the codes in errors.go.
//
// The calls, relative to BaseURL (default https://flex-api.twilio.com):
//
//	POST /v4/Instances/{GO…}/Users/Provision          JSON request body
//	     {"username","email","full_name","roles":[…],"worker":{}}
//	     → the Flex user: flex_user_sid, username, email, full_name, roles,
//	       worker{worker_sid, workspace_sid}, deactivated, version, …
//	GET  /v4/Instances/{GO…}/Users?Username={identity}
//	     → {"account_sid","instance_sid","users":[0 or 1 user],"meta":{…}}
//	POST /v4/Instances/{GO…}/Users/{FU…}/Tokens       JSON request body
//	     {"ttl": seconds}   (always sent, clamped to 60..86400)
//	     → {"access_token": JWE, "token_info": {"expiration": RFC 3339,
//	       "flex_user_sid","identity","username","roles",…}}
//	GET  /v2/Instances/{GO…}   header I-Twilio-Auth-Account: AC…   (Check)
//	     → {"flex_instance_sid","account_sid","status",…}
//	POST /v4/Instances/{GO…}/Users/{FU…}/Deprovision  (ASSUMED path; only
//	     ProvisionTestUser)
//
// All calls send Authorization: Basic base64(user:secret), where user is an
// API key SID (SK…) or, with the Auth Token, the Account SID (AC…).
//
// # Operations
//
//   - Provision: the login (ProvisionUser, then MintToken, one budget).
//   - ProvisionUser: create-or-update; it is both "CreateUser" and
//     "UpdateUser", because v4 documents no separate create or update
//     call that sets roles.
//   - FindUser: Get Flex user by username. MintToken: by Flex user SID (FU…),
//     which is what the Tokens path is keyed by.
//   - Check: read-only probe for `samlflex flex check`: the v2 instance
//     read, then a user lookup (whose 404 reads as "no such user").
//   - ProvisionTestUser: `flex check --provision-test-user`, the login's
//     calls for a throwaway user, reporting every answer.
//
// Error details never carry the secret or tokens, and values of the request
// (username, email, name) that Twilio echoes in a message are redacted.
//
// # Find-or-create without duplicates
//
// A login calls Provision, then Tokens: two requests. Provision is
// documented as an idempotent create-or-update keyed by the unique
// username, so samlflex does not fetch-then-create (which races): it sends
// the full desired state every login and lets Twilio's unique username
// decide. If Twilio answers a racing create with 409 Conflict (20409;
// ASSUMED), another login is creating the same user: the same Provision is
// sent again after a backoff, within the budget, and once the other create
// is done it is an update. Flex's 45796 ("conflict with the state of the
// resource", documented: retry) is retried on any call.
//
// # Retries
//
// classify (errors.go) maps each answer: Twilio's retryable codes (20429,
// 45010, 45780, 45796) are retried whatever status carries them; other
// known codes never are; unknown codes fall back to the status class (429
// always, 5xx and transport errors for requests marked retrySafe, 409 only
// for Provision). Backoff is exponential with full jitter; Retry-After is
// honoured (capped at Options.MaxRetryAfter). Every attempt is bounded by
// Options.Timeout and is started only if that whole timeout fits before the
// earlier of the call's budget (Options.MaxElapsed, on the injected clock)
// and ctx's deadline, so a login never runs into the Lambda deadline.
// Both POSTs are safe to retry: Provision is documented idempotent, and a
// retried Tokens call can at worst mint a second token whose first copy
// never reached us (no durable resource is created).
//
// # Not confirmed by the documentation
//
// docs/flex.md lists every assumption (201 vs 200, 409 on racing creates,
// 404 for unknown instances, users and deactivated users, the ttl refusal,
// the Deprovision path) and how an admin confirms each on a live account;
// the stand-in implements both plausible answers where they differ. Two
// choices made here in the absence of documentation:
//
//   - Email and full_name are required (1..256 characters) and cannot be
//     cleared, so a login without them is refused (CodeFlexRejected, naming
//     the field) rather than keeping a stale value.
//   - "worker": {} is sent with no "attributes", the least destructive way
//     to leave routing attributes set in Flex alone.
package flex
