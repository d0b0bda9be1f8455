package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// StacksAPI is what doctor reads of CloudFormation: the stack's status and
// outputs, and its resources (to find the alarm topic it created).
type StacksAPI interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
	ListStackResources(ctx context.Context, in *cloudformation.ListStackResourcesInput, optFns ...func(*cloudformation.Options)) (*cloudformation.ListStackResourcesOutput, error)
}

// TopicsAPI is what doctor reads of SNS: the alarm topic's subscriptions
// and policy.
type TopicsAPI interface {
	ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, optFns ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
	GetTopicAttributes(ctx context.Context, in *sns.GetTopicAttributesInput, optFns ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error)
}

// Outputs of the CDK stack (infra/stack.go addOutputs).
const (
	outputBaseURL       = "BaseUrl"
	outputKeysSecretArn = "KeysSecretArn"
)

// checkStack reads the stack: its status, and the outputs that stand in
// for --base-url and --secret-id when those are not given. It
// returns the alarm topic's ARN if the stack created one.
func (d *doctor) checkStack(ctx context.Context) string {
	const check = "stack"
	name := d.cfg.Stack
	f := Finding{Check: check, Expected: "a stack in a *_COMPLETE state (not ROLLBACK) with the outputs " + outputBaseURL + " and " + outputKeysSecretArn}
	out, err := d.cfg.Stacks.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil || len(out.Stacks) == 0 {
		f.Status, f.Seen = StatusFail, fmt.Sprintf("DescribeStacks %s failed: %v", name, err)
		f.Fix = "check --stack (the name cdk deploy printed, default Samlflex), --region and the AWS credentials (cloudformation:DescribeStacks)"
		d.add(f)
		return ""
	}
	st := out.Stacks[0]
	status := string(st.StackStatus)
	outputs := map[string]string{}
	for _, o := range st.Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	f.Seen = fmt.Sprintf("%s is %s", name, status)
	switch {
	case strings.HasSuffix(status, "_COMPLETE") && !strings.Contains(status, "ROLLBACK") && !strings.HasPrefix(status, "DELETE"):
		f.Status = StatusOK
	case strings.HasSuffix(status, "_IN_PROGRESS"):
		f.Status, f.Fix = StatusWarn, "a deployment is running: run doctor again when it is done"
	default:
		f.Status = StatusFail
		f.Fix = "the last deployment failed or was rolled back: read the stack's events (aws cloudformation describe-stack-events --stack-name " + name + ") and deploy again"
	}
	d.add(f)

	// The stack's outputs fill in what was not given; a --base-url that
	// differs is normal with a custom domain added outside the stack,
	// but worth saying.
	if base := outputs[outputBaseURL]; base != "" {
		if d.cfg.BaseURL == "" {
			d.cfg.BaseURL = base
		} else if strings.TrimRight(d.cfg.BaseURL, "/") != strings.TrimRight(base, "/") {
			d.add(Finding{Check: "stack.base_url", Status: StatusWarn, Seen: "--base-url " + d.cfg.BaseURL + ", stack output " + base,
				Expected: "the same URL",
				Fix:      "the functions derive the Entity Id and ACS URL from the stack's base URL: deploy with -c baseUrl=... (or the custom domain settings) to match the URL in use"})
		}
	}
	if d.cfg.KeysSecretID == "" {
		d.cfg.KeysSecretID = outputs[outputKeysSecretArn]
	}
	return d.stackTopic(ctx, name)
}

// stackTopic finds the alarm topic the stack created (alarmEmail). A topic
// given with alarmTopicArn is the admin's own and not a resource of the
// stack: --alarm-topic-arn names it.
func (d *doctor) stackTopic(ctx context.Context, name string) string {
	in := &cloudformation.ListStackResourcesInput{StackName: aws.String(name)}
	for {
		out, err := d.cfg.Stacks.ListStackResources(ctx, in)
		if err != nil {
			d.add(Finding{Check: "alarm_topic", Status: StatusWarn, Seen: "ListStackResources failed: " + err.Error(),
				Expected: "the stack's resources", Fix: "allow cloudformation:ListStackResources, or give --alarm-topic-arn"})
			return ""
		}
		for _, r := range out.StackResourceSummaries {
			if aws.ToString(r.ResourceType) == "AWS::SNS::Topic" {
				return aws.ToString(r.PhysicalResourceId)
			}
		}
		if out.NextToken == nil {
			return ""
		}
		in.NextToken = out.NextToken
	}
}

// checkAlarmTopic checks that alarms reach someone: a confirmed
// subscription, and a topic policy that lets CloudWatch publish (a policy
// with only the SSL Deny that enforceSSL adds silently drops every alarm).
func (d *doctor) checkAlarmTopic(ctx context.Context, topic string) {
	const check = "alarm_topic"
	if d.cfg.Topics == nil {
		d.skip(check, "no --stack or --alarm-topic-arn: the alarm topic is not checked")
		return
	}
	if topic == "" {
		d.add(Finding{Check: check, Status: StatusWarn, Seen: "the stack has no alarm topic of its own",
			Expected: "an alarm topic with a confirmed subscription",
			Fix:      "deploy with -c alarmEmail=you@example.com (or -c alarmTopicArn=... and run doctor with --alarm-topic-arn): without one, no alarm (key rotation, IdP certificate expiry, errors) reaches anyone"})
		return
	}
	f := Finding{Check: check, Expected: "at least one confirmed subscription on " + topic}
	var confirmed, pending []string
	in := &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)}
	for {
		out, err := d.cfg.Topics.ListSubscriptionsByTopic(ctx, in)
		if err != nil {
			f.Status, f.Seen = StatusFail, "ListSubscriptionsByTopic failed: "+err.Error()
			f.Fix = "check --alarm-topic-arn, --region and that you may call sns:ListSubscriptionsByTopic"
			d.add(f)
			return
		}
		for _, s := range out.Subscriptions {
			desc := aws.ToString(s.Protocol) + ":" + aws.ToString(s.Endpoint)
			switch aws.ToString(s.SubscriptionArn) {
			case "PendingConfirmation":
				pending = append(pending, desc)
			case "Deleted":
			default:
				confirmed = append(confirmed, desc)
			}
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	switch {
	case len(confirmed) > 0:
		f.Status, f.Seen = StatusOK, "confirmed: "+strings.Join(confirmed, ", ")
	case len(pending) > 0:
		f.Status, f.Seen = StatusFail, "only unconfirmed subscriptions: "+strings.Join(pending, ", ")
		f.Fix = "click the link in the \"AWS Notification - Subscription Confirmation\" email (or resend it from the SNS console): until then no alarm is delivered"
	default:
		f.Status, f.Seen = StatusFail, "no subscription"
		f.Fix = "subscribe someone: aws sns subscribe --topic-arn " + topic + " --protocol email --notification-endpoint you@example.com"
	}
	d.add(f)
	d.add(d.topicPolicyFinding(ctx, topic))
}

func (d *doctor) topicPolicyFinding(ctx context.Context, topic string) Finding {
	f := Finding{Check: "alarm_topic.policy", Expected: "a statement that allows cloudwatch.amazonaws.com to sns:Publish"}
	out, err := d.cfg.Topics.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(topic)})
	if err != nil {
		f.Status, f.Seen, f.Fix = StatusWarn, "GetTopicAttributes failed: "+err.Error(), "allow sns:GetTopicAttributes to check the policy"
		return f
	}
	ok, why := allowsCloudWatchPublish(out.Attributes["Policy"])
	f.Seen = why
	if ok {
		f.Status = StatusOK
	} else {
		f.Status = StatusFail
		f.Fix = "CloudWatch cannot publish alarms to this topic: add an Allow for sns:Publish to principal cloudwatch.amazonaws.com " +
			"(conditioned on aws:SourceAccount), or upgrade the stack to the release whose topic policy has it"
	}
	return f
}
