// Package idpmeta loads an IdP's SAML metadata for `account put
// --idp-metadata FILE|URL`: it reads a file or fetches an https URL under a
// size cap and a timeout, and hands the bytes to samlflex.ParseIdPMetadata,
// which owns every rule about the content.
//
// The metadata carries the certificates samlflex will trust, so the only
// network path is https, redirects included: over plain http anyone on the
// way could substitute their own certificate and then sign logins into
// Flex. The metadata's own XML signature is not checked (samlflex has no
// federation trust anchor to check it against); trust comes from TLS or
// from the file the admin downloaded.
//
// It must not import the CLI, a store or an AWS SDK: it is I/O at the edge,
// used by cmd/samlflex only, and returns *samlflex.Error values that the
// CLI prints (Public, then the detail).
package idpmeta
