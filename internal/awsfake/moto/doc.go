// Package moto starts moto_server, a maintained emulator of AWS services
// (Python moto 5), for tests that should run against an implementation of
// DynamoDB or Secrets Manager that we did not write ourselves. It is
// test-support only: nothing outside _test.go files may import it.
//
// moto_server takes one to two seconds to start, so a package starts one
// for all its tests: a package-level Shared, started by the first test that
// asks for it and stopped by TestMain after m.Run. Tests stay independent
// by working in their own AWS account: every client built from
// Server.HTTPClient sends a fresh account ID in moto's x-moto-account-id
// header, and moto keeps each account's tables and secrets apart. Those
// clients also send one request at a time, because moto does not apply a
// request atomically (see HTTPClient).
//
// Without moto_server on PATH the test is skipped with a message saying how
// to install it, except under CI=true, where it fails: CI must not pass by
// skipping. `go test ./...` on a machine without moto therefore stays fast
// and green; scripts/test.sh, which CI runs, needs it.
package moto
