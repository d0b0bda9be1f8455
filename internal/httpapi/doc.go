// Package httpapi is samlflex's HTTP surface, identical in Lambda (through
// internal/lambdahttp) and in `samlflex serve`: the login link, the ACS,
// SP metadata, the JWKS, health, the error page and the request-id and
// access-log middleware. It must not import an AWS SDK: storage and keys
// come in through the store and keys interfaces.
//
// It never writes err.Error() to a response: renderError shows the code's
// public message, the code and the request id, and logs the detail.
package httpapi
