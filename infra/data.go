package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
)

// Attribute names shared with internal/store/dynamostore.
const (
	AccountsPartitionKey   = "account_sid"
	AssertionsPartitionKey = "id"
	// AssertionsTTLAttribute holds the Unix time (seconds, a Number) after
	// which DynamoDB may delete a used assertion ID.
	AssertionsTTLAttribute = "expiresAt"
)

type data struct {
	accounts   awsdynamodb.Table
	assertions awsdynamodb.Table
	keys       awssecretsmanager.Secret
}

// newData creates the tables and the SP key set secret.
//
// Both tables are encrypted at rest with the AWS managed key aws/dynamodb
// (not the default AWS owned key) so that key use shows in CloudTrail; no
// customer managed key, which would cost $1/month and need a key policy,
// buys nothing here because only this stack's roles read the tables.
func newData(stack awscdk.Stack) *data {
	pitr := &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)}
	d := &data{}
	// Accounts hold the admins' configuration (IdP certificates, role
	// mapping): RETAIN plus deletion protection so that neither `cdk
	// destroy` nor a replacement caused by a code change deletes it.
	d.accounts = awsdynamodb.NewTable(stack, jsii.String("Accounts"), &awsdynamodb.TableProps{
		PartitionKey:                     &awsdynamodb.Attribute{Name: jsii.String(AccountsPartitionKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: pitr,
		Encryption:                       awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy:                    awscdk.RemovalPolicy_RETAIN,
		DeletionProtection:               jsii.Bool(true),
	})
	// Assertions is the one-time-use record of assertion IDs (replay
	// protection). Each item lives until its assertion's NotOnOrAfter; TTL
	// deletes it later (lazily: the store's condition also checks expiry).
	// Nothing in it outlives a teardown usefully, so DESTROY.
	d.assertions = awsdynamodb.NewTable(stack, jsii.String("Assertions"), &awsdynamodb.TableProps{
		PartitionKey:                     &awsdynamodb.Attribute{Name: jsii.String(AssertionsPartitionKey), Type: awsdynamodb.AttributeType_STRING},
		TimeToLiveAttribute:              jsii.String(AssertionsTTLAttribute),
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: pitr,
		Encryption:                       awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy:                    awscdk.RemovalPolicy_DESTROY,
	})
	// The SP key set. The initial value `{}` is an empty key set, not a
	// secret: CloudFormation starts a rotation as soon as it creates the
	// rotation schedule, and that rotation writes the first real keys. It
	// uses the AWS managed key aws/secretsmanager, so readers need no KMS
	// grant. DESTROY: private keys should not outlive the deployment; a new
	// deployment makes new keys and publishes them in its metadata.
	d.keys = awssecretsmanager.NewSecret(stack, jsii.String("SpKeySet"), &awssecretsmanager.SecretProps{
		Description:       jsii.String("samlflex SP key set (previous, current and next signing keys); written only by the rotate function"),
		SecretStringValue: awscdk.SecretValue_UnsafePlainText(jsii.String("{}")),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
	})
	return d
}
