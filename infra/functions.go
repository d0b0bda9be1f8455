package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// memoryMiB is each function's memory, chosen from measured CPU time per
// invocation (test/lambda TestFigures "cpu per invocation"; the reasoning
// and the cost are in docs/aws.md, "Sizing"). None needs more than ~30 MB
// of memory; the size buys CPU, which Lambda allots in proportion (one
// vCPU at 1,769 MB, so 128 MB is 7% of one).
//   - acs: a warm ACS login is ~5 ms of CPU, a cold start ~9 ms plus TLS.
//     At 128 MB that is ~75 ms of CPU-bound wait per login and ~200 ms per
//     cold start, on the agent's path; at 512 MB ~20 and ~50 ms, for about
//     1.3x the GB-seconds (the DynamoDB and Secrets Manager waits cost the
//     same time at any size): fractions of a cent per thousand logins.
//   - metadata: ~0.4 ms warm, ~9 ms cold; fetched by IdPs and by apps
//     checking tokens (JWKS). 256 MB keeps its cold start near 60 ms.
//   - rotate: ~70 ms of CPU per rotation (an RSA-2048 key generation,
//     whose time varies a lot) four times a year, ~1 ms per daily scan;
//     nobody waits for it: 128 MB, with a 60 s timeout for the slowest
//     key generation.
func memoryMiB(name string) float64 {
	switch name {
	case FnACS:
		return 512
	case FnMetadata:
		return 256
	default: // FnRotate
		return 128
	}
}

type functionsProps struct {
	assets    map[string]string // function name => zip path
	retention awslogs.RetentionDays
	logLevel  string                        // Config.LogLevel
	env       map[string]*string            // every function's environment
	extraEnv  map[string]map[string]*string // function name => added to its env
}

// lambdaFn is one function with the role and log group created for it, so
// that iam.go can add exactly the statements it needs.
type lambdaFn struct {
	name string
	fn   awslambda.Function
	role awsiam.Role
	logs awslogs.LogGroup
}

type functions struct {
	acs, metadata, rotate *lambdaFn
}

func (f *functions) all() []*lambdaFn { return []*lambdaFn{f.acs, f.metadata, f.rotate} }

func newFunctions(stack awscdk.Stack, p functionsProps) *functions {
	return &functions{
		// 10 s: for an account with a Flex connection, acs calls Twilio's
		// Flex APIs over HTTPS (provision the user, mint a token) within
		// the flex client's budget of 8 s for all attempts and backoffs
		// (internal/flex DefaultMaxElapsed). The other 2 s cover the SAML
		// checks, the DynamoDB and Secrets Manager calls, and rendering the
		// error page when Twilio is slow or down (a timeout would instead
		// end in API Gateway's bare Internal Server Error). Raise this
		// with that budget. The functions are not in a VPC, so the calls
		// to Twilio need no NAT gateway or endpoint.
		acs: newFunction(stack, p, "Acs", FnACS, awscdk.Duration_Seconds(jsii.Number(10)),
			"samlflex ACS: login link and SAML assertion consumer"),
		metadata: newFunction(stack, p, "Metadata", FnMetadata, awscdk.Duration_Seconds(jsii.Number(10)),
			"samlflex SP metadata, JWKS and health check"),
		// Secrets Manager gives each rotation step its own invocation; key
		// generation at 128 MB (a small CPU share) takes seconds, not minutes.
		rotate: newFunction(stack, p, "Rotate", FnRotate, awscdk.Duration_Seconds(jsii.Number(60)),
			"samlflex SP key rotation and daily IdP certificate scan"),
	}
}

// newFunction creates a function from a prebuilt bootstrap zip, with its own
// log group (retention; no log-retention custom resource) and its own role
// (no AWSLambdaBasicExecutionRole managed policy: the role may only write to
// this log group). Its environment is p.env plus p.extraEnv[name].
func newFunction(stack awscdk.Stack, p functionsProps, id, name string, timeout awscdk.Duration, description string) *lambdaFn {
	logs := awslogs.NewLogGroup(stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention: p.retention,
		// Kept after teardown: sign-in logs are the audit trail; retention
		// still expires them.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	role := awsiam.NewRole(stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Execution role of the samlflex " + name + " function"),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteOwnLogs"),
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: jsii.Strings(*logs.LogGroupArn()),
	}))
	env := merge(p.env, p.extraEnv[name])
	fn := awslambda.NewFunction(stack, jsii.String(id), &awslambda.FunctionProps{
		Description:  jsii.String(description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		// A zip that scripts/build.sh made; CDK uploads it as is, and its
		// hash (stable for unchanged code) decides whether to update.
		Code:          awslambda.Code_FromAsset(jsii.String(p.assets[name]), nil),
		MemorySize:    jsii.Number(memoryMiB(name)),
		Timeout:       timeout,
		Environment:   &env,
		Role:          role,
		LogGroup:      logs,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		// With the JSON format Lambda filters application lines by their
		// "level" field (slog writes DEBUG, INFO, WARN, ERROR) at this
		// level, INFO if unset: without it logLevel=debug would set
		// SAMLFLEX_LOG_LEVEL and Lambda would still drop the DEBUG lines.
		ApplicationLogLevelV2: applicationLogLevel(p.logLevel),
	})
	return &lambdaFn{name: name, fn: fn, role: role, logs: logs}
}

// applicationLogLevel maps Config.LogLevel (validated: debug, info, warn or
// error) to Lambda's application log level.
func applicationLogLevel(level string) awslambda.ApplicationLogLevel {
	switch level {
	case "debug":
		return awslambda.ApplicationLogLevel_DEBUG
	case "warn":
		return awslambda.ApplicationLogLevel_WARN
	case "error":
		return awslambda.ApplicationLogLevel_ERROR
	default:
		return awslambda.ApplicationLogLevel_INFO
	}
}
