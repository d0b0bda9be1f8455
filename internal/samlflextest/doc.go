// Package samlflextest is test support only: the golden fixtures of
// pkg/samlflex/testdata and the values they were signed for, a ready test
// account, SP keys, clocks, a log buffer that parallel handlers can share,
// and small helpers for the emulators the tests run against.
//
//   - Fixtures: Golden, Path, IdPCertificate, ModuleRoot (found by walking
//     up to the samlflex go.mod, so no test spells "../..").
//   - Values: AccountSID, BaseURL, IdPIssuer, IdPSSOURL, StartURL,
//     RequestID, ACSURL; IssueInstant and the pinned Now / Clock; Account.
//   - Requests: ACSPost, the browser's form POST of a response.
//   - Keys: KeyPair (valid at Now), StaticKeys (a fixed keys.Source),
//     StoredKeySet (the set held in a Secrets Manager secret).
//   - Time: ManualClock, a settable Now for code and fakes together.
//   - Logs: LogBuffer and NewLogger; Records / WithMsg / WithKey decode
//     the JSON lines slog writes.
//   - Metrics: EMF, the "_aws" metadata of an Embedded Metric Format line.
//   - Environment: DynamoDBEndpoint, RequireOrSkip (CI=true turns a skip
//     into a failure), FreeAddr.
//
// Sub-package sweeptest is the shared suite of the embedded stores;
// chrometest starts the headless Chromium of the browser tests.
//
// Only _test.go files import it (imports_test.go checks that, for the
// sub-packages too), so nothing here ever ships in a binary. pkg/samlflex
// cannot use it: that package must not import internal packages, and this
// one imports pkg/samlflex.
//
// Why one kit: before it, each package's tests carried its own golden
// reader, account SID, pinned clock and locked buffer, and the copies had
// started to drift (a "locked" writer that did not lock, buffers read
// without their lock, different relative paths to the fixtures).
package samlflextest
