// Package httpapi is samlflex's HTTP surface, identical in Lambda (through
// internal/lambdahttp) and in `samlflex serve`: the login link, the ACS,
// SP metadata, the JWKS, health, the error page and the request-id and
// access-log middleware. It must not import an AWS SDK: storage and keys
// come in through the store and keys interfaces.
//
// The ACS answers a verified unsolicited response (IdP-initiated login) by
// default with a fresh SP-initiated login (acs decides, startLogin sends
// it), so that a token only ever answers a login this browser started:
// that closes login CSRF. The login cookie records the bounce, which
// guards against an IdP that answers with unsolicited responses forever.
// An optional limiter bounds the validations in flight (serve).
//
// It never writes err.Error() to a response: renderError shows the code's
// public message, the code and the request id, and logs the detail.
package httpapi
