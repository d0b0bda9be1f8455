// Package lambda holds the integration test of the Lambda functions as
// Lambda runs them: the real bootstrap binaries of functions/acs,
// functions/metadata and functions/rotate, built with -tags lambda.norpc
// like scripts/build.sh builds them, each started by the AWS Lambda
// Runtime Interface Emulator (RIE), the Runtime API server that Lambda's
// provided.al2023 runtime talks to. The test invokes them with API Gateway
// HTTP API v2 events and EventBridge/Secrets Manager events over the RIE's
// invoke endpoint, against dynalite and the Secrets Manager stand-in
// internal/keys/smfake.
//
// What the in-process tests of internal/awsapp cannot show and this one
// does: that each main reads its configuration from the environment,
// builds its clients with the endpoint overrides, registers the right
// handler with lambda.Start, and that the event and response JSON crosses
// the Runtime API intact; that the stdout CloudWatch would collect is JSON
// lines carrying the API Gateway request id, without SAML content.
//
// The package has only tests. The binaries use the real clock, so the
// golden SAML responses of pkg/samlflex/testdata are expired: the test
// uses one to assert the exact refusal (assertion_expired), which still
// proves that signature verification ran inside the binary.
//
// The test builds the RIE itself (go install, pinned version, cached under
// the user cache directory) and needs dynalite
// (SAMLFLEX_TEST_DYNAMODB_ENDPOINT). Without either it is skipped, or fails
// when CI=true. See README.md.
package lambda
