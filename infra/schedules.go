package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
)

// ScanEventAction is the input of the daily EventBridge invocation; the
// rotate binary tells it apart from a Secrets Manager rotation event.
const ScanEventAction = "scan_idp_certificates"

// addKeyRotation makes Secrets Manager rotate the SP key set every
// cfg.KeyRotationDays with the rotate function.
//
// The schedule is given an imported reference to rotate rather than the
// Function itself. Given the Function, CDK's RotationSchedule also grants
// secretsmanager:GetRandomPassword on "*" (unused: rotate generates key
// pairs) and an invoke permission for secretsmanager.amazonaws.com with no
// source condition. Through the reference it adds neither, and we add:
// the four rotation actions on this secret (iam.go) and an invoke
// permission limited to this account and this secret (SourceAccount and
// SourceArn, as Secrets Manager's docs recommend against the
// confused-deputy problem): no other secret's rotation, in this account or
// another, can run rotate.
func addKeyRotation(stack awscdk.Stack, cfg Config, keys awssecretsmanager.Secret, rotate *lambdaFn) awssecretsmanager.RotationSchedule {
	invoke := awslambda.NewCfnPermission(stack, jsii.String("RotateInvokeBySecretsManager"), &awslambda.CfnPermissionProps{
		Action:        jsii.String("lambda:InvokeFunction"),
		FunctionName:  rotate.fn.FunctionArn(),
		Principal:     jsii.String("secretsmanager.amazonaws.com"),
		SourceAccount: stack.Account(),
		SourceArn:     keys.SecretArn(),
	})
	ref := awslambda.Function_FromFunctionAttributes(stack, jsii.String("RotateForSecretsManager"), &awslambda.FunctionAttributes{
		FunctionArn:     rotate.fn.FunctionArn(),
		SameEnvironment: jsii.Bool(true),
		SkipPermissions: jsii.Bool(true),
	})
	schedule := keys.AddRotationSchedule(jsii.String("Rotation"), &awssecretsmanager.RotationScheduleOptions{
		RotationLambda:     ref,
		AutomaticallyAfter: awscdk.Duration_Days(jsii.Number(float64(cfg.KeyRotationDays))),
		// The first rotation runs when the schedule is created and writes
		// the first keys (the secret starts as `{}`). The price: changing
		// the schedule (keyRotationDays) also rotates once right away.
		RotateImmediatelyOnUpdate: jsii.Bool(true),
	})
	// CloudFormation starts that first rotation when it creates the
	// schedule: Secrets Manager must be allowed to invoke rotate, and
	// rotate's role must already carry its policy. The Function resource
	// (a dependency through its ARN) depends on its role and policy.
	schedule.Node().AddDependency(invoke, rotate.role)
	return schedule
}

// addCertificateScan runs rotate daily with {"action":"scan_idp_certificates"}:
// it checks every account's IdP certificates and publishes
// MinIdPCertificateDaysToExpiry, which alarms.go watches.
func addCertificateScan(stack awscdk.Stack, rotate *lambdaFn) awsevents.Rule {
	rule := awsevents.NewRule(stack, jsii.String("IdpCertificateScan"), &awsevents.RuleProps{
		Description: jsii.String("Daily samlflex IdP certificate expiry scan"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Days(jsii.Number(1))),
	})
	rule.AddTarget(awseventstargets.NewLambdaFunction(rotate.fn, &awseventstargets.LambdaFunctionProps{
		Event: awsevents.RuleTargetInput_FromObject(map[string]string{"action": ScanEventAction}),
		// EventBridge invokes rotate asynchronously, so this retry policy
		// covers only delivering the event to Lambda (throttling, Lambda
		// unavailable), for up to 6 hours. A scan that runs and fails is
		// retried by Lambda's own asynchronous retries (two, by default),
		// not by this policy; a failure shows in RotateErrors, and the next
		// day's scan is still well within the 30-day alarm window.
		RetryAttempts: jsii.Number(2),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(6)),
	}))
	return rule
}
