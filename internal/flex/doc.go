// Package flex signs a user into Twilio Flex after a SAML login. It
// provisions the Flex user (which creates its TaskRouter worker) and mints a
// Flex user token (a JWE) that the Flex UI and the Flex SDK accept, over
// plain net/http with the account's API key. It owns the retry policy for
// those calls and the mapping of Twilio errors to *samlflex.Error.
//
// It must not import an AWS SDK, a Twilio SDK, internal/httpapi or any
// other service package: the ACS use case and the CLI (`samlflex flex
// check`) call it with the account's credentials, and its stand-in for
// tests is the sub-package flextest.
//
// # Where the shapes come from
//
// Twilio's legacy hosted SSO is retired; the documented way for our own
// service to sign a user in is the pair of public-beta APIs below. Every
// path, method, field and code in this package is taken from these Twilio
// documentation pages (read in their Markdown form):
//
//   - "Flex Users API (public beta)": List Flex Users (v1), and, "available
//     in the v4 API path or later": Provision a Flex user, Deprovision a Flex
//     user, Get Flex user by username, Get Flex user by Flex user SID.
//   - "Flex User Token API (public beta)": Generate a Flex user token.
//   - "Flex SDK authentication (public beta)": option 3, "Build your own
//     authentication", is what this package implements.
//   - "Twilio API requests": HTTP Basic auth with API key SID as the user and
//     the API key secret as the password is the recommended credential.
//   - "Twilio API responses": status codes, and the exception body
//     {"status", "message", "code" (if present), "more_info" (if present)}.
//   - Error pages "20003: Permission Denied", "20403: 403 Forbidden",
//     "70051: Authorization Failed", "45003: Authorization Error" (Flex),
//     "20404", "20429: Too many requests" ("Requests that receive 429
//     responses aren't processed and are safe to retry"), "45010: Rate Limit
//     Exceeded" (Flex), "20409: Conflict", "59102: Transaction Conflict",
//     "14240: Max concurrent Workers exceeded" (TaskRouter).
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
//	     {"ttl": seconds}   (default 3600)
//	     → {"access_token": JWE, "token_info": {"expiration": RFC 3339,
//	       "flex_user_sid","identity","username","roles",…}}
//
// All calls send Authorization: Basic base64(APIKeySID:APISecret).
//
// # Operations
//
//   - Provision: the login (ProvisionUser, then MintToken, one budget).
//   - ProvisionUser: create-or-update; it is both "CreateUser" and
//     "UpdateUser", because v4 documents no separate create or update
//     call that sets roles.
//   - FindUser: Get Flex user by username. MintToken: by Flex user SID (FU…),
//     which is what the Tokens path is keyed by.
//   - Check: read-only probe for `samlflex flex check`.
//
// Error details never carry the secret or tokens, and values of the request
// (username, email, name) that Twilio echoes in a message are redacted.
//
// # Find-or-create without duplicates
//
// A login calls Provision, then Tokens: two requests. Provision is documented
// as "create or update a Flex User … The API is idempotent, meaning that
// repeated requests with the same data will not create duplicate
// resources", keyed by the unique username. So samlflex does not
// fetch-then-create (which races): it sends the full desired state every
// login and lets Twilio's unique username decide. If Twilio answers a racing
// create with 409 Conflict (20409, or 59102 which is documented as "safe to
// try the request again"), another login is creating the same user: the same
// Provision is sent again after a backoff, within the budget, and once the
// other create is done it is an update. This is the only 4xx besides 429
// that is retried, and only for Provision.
//
// # Retries
//
// 429 and 5xx answers and transport errors are retried with exponential
// backoff and full jitter; other 4xx answers never are (except Provision's
// 409, above). Retry-After is
// honoured (capped at Options.MaxRetryAfter). Every attempt is bounded by
// Options.Timeout and is started only if that whole timeout fits before the
// earlier of the call's budget (Options.MaxElapsed, on the injected clock)
// and ctx's deadline, so a login never runs into the Lambda deadline.
// Both POSTs are safe to retry: Provision is documented idempotent, and a
// retried Tokens call can at worst mint a second token whose first copy
// never reached us (no durable resource is created).
//
// # Not confirmed by the documentation (check against a live account)
//
//   - UNCONFIRMED: how to clear an attribute. Provision documents email and
//     full_name as required, 1..256 characters, so Twilio gives no way to
//     clear them. samlflex therefore refuses (CodeFlexRejected, naming the
//     field) a login whose email or full name is empty, instead of sending
//     an empty string that the documented schema forbids or keeping a stale
//     value. Roles are always sent in full, so a removed role is removed.
//   - UNCONFIRMED: whether "worker": {} leaves existing worker attributes
//     (skills, capacity set in Flex) untouched. We send {} with no
//     "attributes" key, which the docs allow ("Can be empty {}"), as the
//     least destructive choice.
//   - UNCONFIRMED: success status codes of the POSTs (any 2xx is accepted),
//     and whether Twilio answers a racing create with 409.
//   - UNCONFIRMED: a Flex user-limit error. No page names one for
//     Provision; 14240 (TaskRouter "Max concurrent Workers exceeded") is the
//     only documented worker-count limit, so it maps to CodeFlexUserLimit.
//   - UNCONFIRMED: the answer for an unknown instance SID; we assume 404 /
//     20404 like every Twilio resource, and map any 404 to
//     CodeFlexInstanceNotFound (a 404 on Tokens could also mean an unknown
//     user; right after Provision that is unlikely).
//   - UNCONFIRMED: whether Provision reactivates a deprovisioned user. If
//     the answer still says "deactivated": true, samlflex fails closed with
//     CodeFlexRejected and mints no token.
//   - UNCONFIRMED: the largest ttl Twilio accepts; none is enforced here.
//   - Check uses Get-by-username with a probe name (ProbeUsername) because
//     no documented read-only Flex instance resource remains (the v1
//     Instance resource was removed from Twilio's API definitions).
package flex
