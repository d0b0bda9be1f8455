package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// grantAccess gives each function exactly the data-plane actions its code
// calls, as explicit statements. Grant* helpers are avoided on purpose:
// table.GrantReadData adds Query, Scan, BatchGetItem, ConditionCheckItem
// and DescribeTable; secret.GrantRead adds DescribeSecret; none of which
// acs or metadata call.
//
// Who calls what (internal/store, internal/keys/smkeys, internal/flexconn,
// internal/rotate):
//   - acs: Accounts.Get (GetItem on accounts), Assertions.MarkUsed
//     (conditional PutItem on assertions, and GetItem on assertions when
//     the condition fails: a consistent read of the item's write_id tells
//     a retried write of our own, whose first response was lost, from a
//     real replay; without GetItem every replay would be AccessDenied and
//     answer 503 store_unavailable instead of assertion_replayed), key set
//     read (GetSecretValue), and the Flex connector's Twilio API key
//     secrets (GetSecretValue on flexSecretsArn, the one pattern, see
//     there).
//   - metadata: Accounts.Get (GetItem), key set read (GetSecretValue).
//   - rotate: Accounts.List for the IdP certificate scan (Scan), and the
//     four calls of a Secrets Manager rotation (createSecret, setSecret,
//     testSecret, finishSecret): DescribeSecret, GetSecretValue,
//     PutSecretValue, UpdateSecretVersionStage. It does not call
//     GetRandomPassword (it generates key pairs itself), which is why
//     key_rotation.go keeps CDK from adding that action on "*".
//
// The tables have no indexes, so the table ARN is the whole resource. The
// secrets and tables use AWS managed keys, which need no KMS statement
// (the CLI creates the Flex secrets without a KmsKeyId, so they use
// aws/secretsmanager too).
func grantAccess(stack awscdk.Stack, fns *functions, d *data) {
	accounts, assertions, keys := d.accounts.TableArn(), d.assertions.TableArn(), d.keys.SecretArn()

	allow(fns.acs, "ReadAccounts", accounts, "dynamodb:GetItem")
	allow(fns.acs, "RecordAssertionIds", assertions, "dynamodb:PutItem")
	allow(fns.acs, "ReadAssertionIds", assertions, "dynamodb:GetItem")
	allow(fns.acs, "ReadKeySet", keys, "secretsmanager:GetSecretValue")
	allow(fns.acs, "ReadFlexApiKeySecrets", flexSecretsArn(stack, flexSecretSuffixPattern), "secretsmanager:GetSecretValue")
	// Secrets Manager authorizes a request for a secret that does not
	// exist against the name as given, without a suffix, and answers
	// AccessDenied instead of ResourceNotFound when that is not allowed.
	// acs must tell "no secret stored for this account" (an admin's
	// missing step: flex_credentials_invalid, with the command to run)
	// from Secrets Manager failing (keys_unavailable), so it may also
	// look up exactly the suffix-less names. That reveals only whether
	// such a secret exists. test/lambda TestLeastPrivilege records this
	// call for an account without its secret.
	allow(fns.acs, "LookUpMissingFlexApiKeySecrets", flexSecretsArn(stack, ""), "secretsmanager:GetSecretValue")

	allow(fns.metadata, "ReadAccounts", accounts, "dynamodb:GetItem")
	allow(fns.metadata, "ReadKeySet", keys, "secretsmanager:GetSecretValue")

	allow(fns.rotate, "ScanAccounts", accounts, "dynamodb:Scan")
	allow(fns.rotate, "RotateKeySet", keys,
		"secretsmanager:DescribeSecret",
		"secretsmanager:GetSecretValue",
		"secretsmanager:PutSecretValue",
		"secretsmanager:UpdateSecretVersionStage",
	)
}

func allow(f *lambdaFn, sid string, resource *string, actions ...string) {
	f.role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings(actions...),
		Resources: &[]*string{resource},
	}))
}

// FlexSecretPrefix is the name prefix of the Flex connector's per-account
// secrets (prefix + Account SID), given to acs as
// SAMLFLEX_FLEX_SECRET_PREFIX and to the CLI as --flex-secret-prefix (the
// FlexSecretPrefix output). It contains the stack name so that two stacks
// in one account and region never read each other's secrets; the trailing
// "/flex/" keeps stack "Samlflex" from matching stack "Samlflex2"'s.
// Stack names are literal at synth time (never a token), which keeps the
// prefix a plain string.
func FlexSecretPrefix(stack awscdk.Stack) string {
	return "samlflex/" + *stack.StackName() + "/flex/"
}

// flexSecretsArn matches exactly the names the CLI gives the Flex
// connector's secrets, FlexSecretPrefix + an Account SID ("AC" and 32 hex
// digits), followed by suffix: flexSecretSuffixPattern for the "-" and 6
// random characters that Secrets Manager appends to every secret's ARN,
//
//	arn:<partition>:secretsmanager:<region>:<account>:secret:<prefix>AC????????????????????????????????-??????
//
// or "" for the name alone (what a request for a missing secret is
// authorized against). IAM's "?" matches one character. The secrets are
// created after deploy, one per account, so no ARN can be listed; but
// unlike <prefix>*, this pattern matches no other name under the prefix
// (say a secret an admin keeps there for something else), and it has no
// "*" (no AwsSolutions-IAM5 finding to suppress).
func flexSecretsArn(stack awscdk.Stack, suffix string) *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("arn:"), stack.Partition(),
		jsii.String(":secretsmanager:"), stack.Region(),
		jsii.String(":"), stack.Account(),
		jsii.String(":secret:" + FlexSecretPrefix(stack) + flexSecretSIDPattern + suffix),
	})
}

const (
	// flexSecretSIDPattern matches an Account SID: AC and 32 characters.
	flexSecretSIDPattern = "AC" + "????????????????????????????????"
	// flexSecretSuffixPattern matches Secrets Manager's "-" and 6
	// random characters at the end of a secret's ARN.
	flexSecretSuffixPattern = "-??????"
)
