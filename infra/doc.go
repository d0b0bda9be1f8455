// Command infra is the samlflex CDK app: it deploys the HTTP API, the three
// Lambda functions (acs, metadata, rotate), the DynamoDB tables, the SP key
// set secret with its rotation, the daily IdP-certificate scan and the
// alarms into the admin's own AWS account.
//
// It is its own Go module and must not import the root module
// (github.com/samlflex/samlflex): the Lambda binaries must never compile
// CDK, and the CDK app only needs the prebuilt bootstrap zips that
// scripts/build.sh writes to dist/lambda. The contract with the runtime is
// the environment variables, routes, table keys and metric names set here;
// stack_test.go pins them.
//
// cdk-nag's AwsSolutions pack runs on every synth (nag.go); each finding is
// fixed or suppressed next to the resource with a written reason.
package main
