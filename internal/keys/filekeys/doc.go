// Package filekeys is the local keys.Source: the SP key set in one JSON file
// (dir/sp-keys.json, the same format as the Secrets Manager secret), used by
// `samlflex dev` and `samlflex serve`. On first start it generates a set, so
// a developer never handles key material by hand.
//
// Must not import an AWS SDK nor net/http: it runs on a laptop.
//
// The file is written atomically (temporary file in the same directory,
// fsync, rename, fsync of the directory) so that a crash or a full disk can
// never leave a half-written key file that would stop the server starting,
// and with mode 0600 because it holds private keys.
package filekeys
