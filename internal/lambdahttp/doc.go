// Package lambdahttp owns the translation between API Gateway HTTP API
// (payload format 2.0) events and net/http: an
// events.APIGatewayV2HTTPRequest becomes an *http.Request for an ordinary
// http.Handler, and what the handler writes becomes an
// events.APIGatewayV2HTTPResponse. It lets the Lambda functions serve the
// same http.Handler that `samlflex serve` runs on net/http, so the HTTP layer
// is written and tested once.
//
// It exists, instead of aws-lambda-go's lambdaurl, because HTTP API moves
// request cookies out of the headers into the event's Cookies array and
// lambdaurl drops that array: the ACS would never see the signed request
// tracking cookie and every SP-initiated login would look unsolicited.
// lambdaurl also needs a streaming Function URL, which HTTP API is not.
//
// What it does beyond copying fields, and why:
//   - X-Request-Id is always API Gateway's requestId, replacing any the
//     client sent, so a client cannot choose (or collide with) our log
//     correlation id.
//   - The request body is capped (Options.MaxBody), a base64 body whose
//     encoded length already exceeds the cap is refused before it is
//     decoded, and a malformed base64 body is answered with 400, not a
//     Lambda error, so bad input never turns into an invocation error that
//     API Gateway reports as a 500.
//   - A handler panic is recovered and answered with a generic 500; the
//     panic value goes to the log only, because it may contain input.
//   - Response bodies go back as text only when they are textual and valid
//     UTF-8; anything else is base64, because JSON-encoding invalid UTF-8
//     silently replaces bytes.
//
// It logs only what the HTTP layer cannot see (requests refused before the
// handler ran, handler panics) and never logs bodies or cookies: the body of
// an ACS request is a SAMLResponse.
//
// It must not import samlflex's service packages (httpapi, acs, store, keys,
// ...): it is transport only, so it can be tested with any handler and the
// service code stays free of aws-lambda-go.
package lambdahttp
