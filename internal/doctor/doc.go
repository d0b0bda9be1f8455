// Package doctor checks a running samlflex from the outside, the way an
// admin would after `cdk deploy` or before a go-live: TLS, /healthz, the SP
// metadata, the JWKS, the login link (its redirect, AuthnRequest and login
// cookie), the server's clock and, with AWS credentials, the stack, the key
// secret's rotation and the alarm topic. Each check returns Findings that say what was seen, what was
// expected and what to fix; `samlflex doctor` prints them.
//
// It only uses what any client sees (HTTP answers) plus, with AWS
// credentials, read-only calls: CloudFormation DescribeStacks and
// ListStackResources, Secrets Manager DescribeSecret (never the secret's
// value), SNS ListSubscriptionsByTopic and GetTopicAttributes. The clients
// are built in one place, awsclient.go, from the default credential chain;
// the checks see them through small interfaces so tests use fakes.
//
// It must not import the server's packages (internal/httpapi,
// internal/keys, ...) outside tests, smclient (a client builder) aside: a
// check that shares the server's code would share its bugs, and the point
// is to look from outside. It imports pkg/samlflex only for URLsFor, the
// one definition of the SP's URLs that admins paste into Salesforce.
//
// No global state: the clock, the HTTP transport, the AWS clients and the
// logger are in Config.
package doctor
