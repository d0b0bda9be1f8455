//go:build !unix

package samlidp

// lockFile is a no-op where flock is missing: there, run
// `npm ci` in test/e2e/idp before running tests in parallel.
func lockFile(string) (unlock func(), err error) { return func() {}, nil }
