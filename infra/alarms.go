package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"
)

// Metrics that the rotate function writes in CloudWatch Embedded Metric
// Format (no dimensions). Renaming one silently disables its alarm.
const (
	MetricNamespace                     = "samlflex"
	MetricRotations                     = "SPKeyRotations"
	MetricRotationFailures              = "SPKeyRotationFailures"
	MetricMinIdPCertificateDaysToExpiry = "MinIdPCertificateDaysToExpiry"
	// MetricKeySetAgeDays: the age of the SP key set's AWSCURRENT version,
	// published by the daily scan (internal/awsapp MetricKeySetAgeDays).
	MetricKeySetAgeDays = "SPKeySetAgeDays"
)

// Alarm thresholds.
const (
	// ApiServerErrorPercent: a 5xx share above this in 5 minutes alarms.
	// At samlflex's volume one failed sign-in in twenty is already worth a
	// look.
	ApiServerErrorPercent = 5
	// IdPCertificateWarnDays: Salesforce admins need time to rotate the IdP
	// certificate and update the account before sign-ins start failing. It
	// is also the rotate function's SAMLFLEX_CERT_WARN_DAYS, so the scan's
	// log warning and this alarm start on the same day.
	IdPCertificateWarnDays = 30
	// KeyRotationOverdueDays: the KeyRotationOverdue alarm fires when the
	// key set is older than keyRotationDays plus this. Secrets Manager
	// rotates some time during the due day and the scan runs daily, so a
	// healthy key set is seen at most about a day past the period.
	KeyRotationOverdueDays = 3
)

// addAlarms creates the alarms and, if configured, sends them to SNS.
// Missing data is "not breaching" everywhere: no traffic is not an error.
func addAlarms(stack awscdk.Stack, cfg Config, httpAPI awsapigatewayv2.HttpApi, fns *functions) []awscloudwatch.Alarm {
	fiveMinutes := awscdk.Duration_Minutes(jsii.Number(5))
	var alarms []awscloudwatch.Alarm
	add := func(id string, props *awscloudwatch.AlarmProps) {
		if props.TreatMissingData == "" {
			props.TreatMissingData = awscloudwatch.TreatMissingData_NOT_BREACHING
		}
		alarms = append(alarms, awscloudwatch.NewAlarm(stack, jsii.String(id), props))
	}

	// The API-wide 5xx share. It covers the ACS (the routes that matter)
	// and metadata; per-route metrics would need detailed metrics, billed
	// per metric. ACS failures that the handler turns into a 5xx page are
	// not Lambda errors, so this alarm, not AcsErrors, catches them.
	add("Api5xxRate", &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("samlflex: more than 5% of HTTP API requests (ACS sign-ins, metadata) answered 5xx in 5 minutes. Check the acs function's logs by request id."),
		Metric: awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String("IF(requests > 0, 100 * errors / requests, 0)"),
			Label:      jsii.String("5xx %"),
			Period:     fiveMinutes,
			UsingMetrics: &map[string]awscloudwatch.IMetric{
				"errors":   httpAPI.MetricServerError(&awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Sum")}),
				"requests": httpAPI.MetricCount(&awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Sum")}),
			},
		}),
		Threshold:          jsii.Number(ApiServerErrorPercent),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
	})
	add("KeyRotationFailures", &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("samlflex: an SP key rotation failed (SPKeyRotationFailures >= 1). Check the rotate function's logs; force a retry with aws secretsmanager rotate-secret."),
		Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:  jsii.String(MetricNamespace),
			MetricName: jsii.String(MetricRotationFailures),
			Statistic:  jsii.String("Sum"),
			Period:     awscdk.Duration_Hours(jsii.Number(1)),
		}),
		Threshold:          jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
	})
	// A rotation that never starts writes no failure: if Secrets Manager
	// cannot invoke rotate (a removed permission, a disabled schedule),
	// only the age of the key set tells. The daily scan publishes it.
	overdue := cfg.KeyRotationDays + KeyRotationOverdueDays
	add("KeyRotationOverdue", &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("samlflex: the SP key set is older than %d days (SPKeySetAgeDays > keyRotationDays %d + %d): rotation has stopped without failing. "+
			"Check the secret's rotation schedule and that Secrets Manager may invoke the rotate function; then aws secretsmanager rotate-secret.",
			overdue, cfg.KeyRotationDays, KeyRotationOverdueDays)),
		Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:  jsii.String(MetricNamespace),
			MetricName: jsii.String(MetricKeySetAgeDays),
			Statistic:  jsii.String("Maximum"),
			Period:     awscdk.Duration_Days(jsii.Number(1)),
		}),
		Threshold:          jsii.Number(float64(overdue)),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
	})
	// The scan runs daily, so a one-day period always holds its datapoint.
	add("IdpCertificateExpiry", &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("samlflex: an account's Salesforce IdP certificate expires in under %d days (MinIdPCertificateDaysToExpiry < %d). "+
			"Rotate it in Salesforce and update the account.", IdPCertificateWarnDays, IdPCertificateWarnDays)),
		Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:  jsii.String(MetricNamespace),
			MetricName: jsii.String(MetricMinIdPCertificateDaysToExpiry),
			Statistic:  jsii.String("Minimum"),
			Period:     awscdk.Duration_Days(jsii.Number(1)),
		}),
		Threshold:          jsii.Number(IdPCertificateWarnDays),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
	})
	for _, f := range fns.all() {
		id := titleCase(f.name)
		add(id+"Errors", &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String("samlflex: the " + f.name + " function failed (Lambda Errors >= 1 in 5 minutes): a crash, timeout or unhandled error."),
			Metric:             f.fn.MetricErrors(&awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Sum")}),
			Threshold:          jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
		})
		add(id+"Throttles", &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String("samlflex: the " + f.name + " function was throttled (Lambda Throttles >= 1 in 5 minutes): the account's concurrency limit was reached."),
			Metric:             f.fn.MetricThrottles(&awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Sum")}),
			Threshold:          jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
		})
	}

	if topic := alarmTopic(stack, cfg); topic != nil {
		action := awscloudwatchactions.NewSnsAction(topic)
		for _, a := range alarms {
			a.AddAlarmAction(action)
		}
		if own, ok := topic.(awssns.Topic); ok {
			allowAlarmsToPublish(stack, own, alarms)
		}
	}
	return alarms
}

// allowAlarmsToPublish adds the topic-policy statement that lets these
// alarms publish. A topic policy replaces the default one that allowed the
// account's own principals, and enforceSSL's policy holds only a Deny, so
// without this CloudWatch's publish is refused and no alarm ever arrives.
// The principal is CloudWatch, limited to this account (aws:SourceAccount)
// and to exactly these alarms (aws:SourceArn): another account's alarm, or
// another alarm of this account, cannot use the topic (confused deputy).
func allowAlarmsToPublish(stack awscdk.Stack, topic awssns.Topic, alarms []awscloudwatch.Alarm) {
	arns := make([]*string, 0, len(alarms))
	for _, a := range alarms {
		arns = append(arns, a.AlarmArn())
	}
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowThisStacksAlarmsToPublish"),
		Effect:     awsiam.Effect_ALLOW,
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: &map[string]interface{}{
			"StringEquals": map[string]interface{}{"aws:SourceAccount": stack.Account()},
			"ArnEquals":    map[string]interface{}{"aws:SourceArn": arns},
		},
	}))
}

// alarmTopic returns the topic alarms notify: the admin's own topic, a new
// one with an e-mail subscription, or nil. The admin's own topic is not
// changed: its policy must already let CloudWatch publish (docs/aws.md).
func alarmTopic(stack awscdk.Stack, cfg Config) awssns.ITopic {
	switch {
	case cfg.AlarmTopicArn != "":
		return awssns.Topic_FromTopicArn(stack, jsii.String("AlarmTopic"), jsii.String(cfg.AlarmTopicArn))
	case cfg.AlarmEmail != "":
		// Not encrypted at rest with KMS: CloudWatch alarms cannot publish
		// to a topic under the AWS managed key aws/sns, and a customer
		// managed key (with a key policy for CloudWatch) would add $1/month
		// for messages that carry only alarm names, states and metric
		// values. (AwsSolutions has no rule for topic encryption.)
		topic := awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
			DisplayName: jsii.String("samlflex alarms"),
			EnforceSSL:  jsii.Bool(true),
		})
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmail), nil))
		return topic
	}
	return nil
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
