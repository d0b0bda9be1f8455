// Package httpapi is samlflex's HTTP surface, identical in Lambda (through
// internal/lambdahttp) and in `samlflex serve`: the login link, the ACS,
// SP metadata, the JWKS, health, the error page and the request-id and
// access-log middleware.
//
// For the login it is translation only: HTTP in (path, form, cookies,
// body caps, the concurrency limit), one internal/acs call (StartLogin or
// Handle), HTTP out (status, headers, the login cookie's name and
// attributes, the error page). The rules, the account cache and the
// login-cookie state live in internal/acs and internal/session, so they
// are tested without a server. A verified unsolicited response is by
// default answered with a fresh SP-initiated login that acs starts and
// this package sends (303 to the IdP with a new login cookie).
//
// It must not import an AWS SDK: storage and keys come in through the
// store and keys interfaces. It never writes err.Error() to a response:
// renderError shows the code's public message, the code and the request
// id, and logs the detail.
package httpapi
