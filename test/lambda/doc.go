// Package lambda holds the integration test of the Lambda functions as
// Lambda runs them: the real bootstrap binaries of functions/acs,
// functions/metadata and functions/rotate, built with -tags lambda.norpc
// like scripts/build.sh builds them, each started by the AWS Lambda
// Runtime Interface Emulator (RIE), the Runtime API server that Lambda's
// provided.al2023 runtime talks to. The test invokes them with API Gateway
// HTTP API v2 events and EventBridge/Secrets Manager events over the RIE's
// invoke endpoint, against dynalite and the Secrets Manager stand-in
// internal/awsfake/smfake.
//
// What the in-process tests of internal/awsapp cannot show and this one
// does: that each main reads its configuration from the environment,
// builds its clients with the endpoint overrides, registers the right
// handler with lambda.Start, and that the event and response JSON crosses
// the Runtime API intact; that the stdout CloudWatch would collect is JSON
// lines carrying the API Gateway request id, without SAML content.
//
// The package has only tests. The binaries use the real clock, so the
// golden SAML responses of pkg/samlflex/testdata are expired: TestFunctions
// uses one to assert the exact refusal (assertion_expired), which still
// proves that signature verification ran inside the binary. TestLogin has
// the success path: a scripted login (login link, the samlify IdP of
// test/e2e/samlidp driven with net/http, its signed response posted to the
// ACS with the login cookie), the session token verified with go-jose
// against the metadata function's JWKS, and the replay refused.
// TestFigures logs the deployment figures (bootstrap sizes, cold start,
// calls per login); its only assertion is a size guard.
//
// The test builds the RIE itself (go install, pinned version, cached under
// the user cache directory) and needs dynalite
// (SAMLFLEX_TEST_DYNAMODB_ENDPOINT), and Node.js for the IdP. Without them
// it is skipped, or fails when CI=true. See README.md.
package lambda
