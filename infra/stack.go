package main

import (
	"fmt"
	"maps"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// StackProps is the stack's CDK props plus the admin's Config.
type StackProps struct {
	awscdk.StackProps
	Config Config
}

// NewStack builds the whole samlflex deployment. It returns an error,
// rather than panicking inside jsii, for a bad Config or a missing asset.
func NewStack(scope constructs.Construct, id string, props *StackProps) (awscdk.Stack, error) {
	cfg := props.Config.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	assets := map[string]string{}
	for _, name := range []string{FnACS, FnMetadata, FnRotate} {
		p, err := cfg.assetPath(name)
		if err != nil {
			return nil, err
		}
		assets[name] = p
	}
	logRetention, _ := retention(cfg.LogRetentionDays)

	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	d := newData(stack)
	a := newAPI(stack, cfg, logRetention)
	// Each function gets only the variables its config.Load reads
	// (internal/config): a variable nobody reads is a setting that seems
	// to work and does not.
	httpEnv := map[string]*string{
		"SAMLFLEX_BASE_URL":         a.baseURL,
		"SAMLFLEX_ASSERTIONS_TABLE": d.assertions.TableName(),
	}
	fns := newFunctions(stack, functionsProps{
		assets:    assets,
		retention: logRetention,
		logLevel:  cfg.LogLevel,
		env: map[string]*string{
			"SAMLFLEX_ACCOUNTS_TABLE": d.accounts.TableName(),
			"SAMLFLEX_KEYS_SECRET_ID": d.keys.SecretArn(),
			"SAMLFLEX_LOG_LEVEL":      jsii.String(cfg.LogLevel),
		},
		extraEnv: map[string]map[string]*string{
			// Only acs reads the Flex connector's secrets (iam.go).
			FnACS:      merge(httpEnv, map[string]*string{"SAMLFLEX_FLEX_SECRET_PREFIX": jsii.String(FlexSecretPrefix(stack))}),
			FnMetadata: httpEnv,
			FnRotate: {
				// The certificates' validity follows the period
				// (awsapp.CertValidity).
				"SAMLFLEX_KEY_ROTATION_DAYS": jsii.String(fmt.Sprint(cfg.KeyRotationDays)),
				"SAMLFLEX_CERT_WARN_DAYS":    jsii.String(fmt.Sprint(IdPCertificateWarnDays)),
			},
		},
	})
	grantAccess(stack, fns, d)
	if err := a.addRoutes(stack, fns); err != nil {
		return nil, err
	}
	addKeyRotation(stack, cfg, d.keys, fns.rotate)
	addCertificateScan(stack, fns.rotate)
	addAlarms(stack, cfg, a.api, fns)
	addOutputs(stack, a, d)
	return stack, nil
}

// merge returns a new map with the entries of ms, later ones winning.
func merge(ms ...map[string]*string) map[string]*string {
	out := map[string]*string{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

func addOutputs(stack awscdk.Stack, a *api, d *data) {
	awscdk.NewCfnOutput(stack, jsii.String("BaseUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("samlflex base URL: the prefix of every account's Entity ID, ACS URL and login link"),
		Value:       a.baseURL,
	})
	awscdk.NewCfnOutput(stack, jsii.String("AccountsTableName"), &awscdk.CfnOutputProps{
		Description: jsii.String("DynamoDB table of account settings (samlflex account ... --dynamodb-table)"),
		Value:       d.accounts.TableName(),
	})
	awscdk.NewCfnOutput(stack, jsii.String("KeysSecretArn"), &awscdk.CfnOutputProps{
		Description: jsii.String("Secrets Manager secret with the SP key set (aws secretsmanager rotate-secret --secret-id)"),
		Value:       d.keys.SecretArn(),
	})
	awscdk.NewCfnOutput(stack, jsii.String("FlexSecretPrefix"), &awscdk.CfnOutputProps{
		Description: jsii.String("Name prefix of the Flex connector's Twilio API key secrets, one per account (samlflex account put --flex-secret-prefix)"),
		Value:       jsii.String(FlexSecretPrefix(stack)),
	})
	awscdk.NewCfnOutput(stack, jsii.String("AccountUrlsCommand"), &awscdk.CfnOutputProps{
		Description: jsii.String("Prints an account's Salesforce URLs (Entity ID, ACS URL, login link); replace ACxxx with the Flex Account SID"),
		Value: awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("samlflex account get --account-sid ACxxx --base-url "),
			a.baseURL,
			jsii.String(" --dynamodb-table "),
			d.accounts.TableName(),
		}),
	})
	if a.domain != nil {
		awscdk.NewCfnOutput(stack, jsii.String("CustomDomainTarget"), &awscdk.CfnOutputProps{
			Description: jsii.String("Point the custom domain here: a CNAME, or a Route 53 alias with hosted zone CustomDomainHostedZoneId"),
			Value:       a.domain.RegionalDomainName(),
		})
		awscdk.NewCfnOutput(stack, jsii.String("CustomDomainHostedZoneId"), &awscdk.CfnOutputProps{
			Description: jsii.String("Hosted zone ID of CustomDomainTarget, for a Route 53 alias record"),
			Value:       a.domain.RegionalHostedZoneId(),
		})
		if !a.executeAPIDisabled {
			awscdk.NewCfnOutput(stack, jsii.String("ExecuteApiEndpoint"), &awscdk.CfnOutputProps{
				Description: jsii.String("The HTTP API's own endpoint; use BaseUrl in Salesforce, this one changes if the API is replaced"),
				Value:       a.api.ApiEndpoint(),
			})
		}
	}
}
