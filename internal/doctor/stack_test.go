package doctor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// fakeStacks is a CloudFormation stack with outputs and resources; the
// topic is on the second page, so that paging is exercised.
type fakeStacks struct {
	status    cfntypes.StackStatus
	outputs   map[string]string
	topic     string
	err       error
	resources error
}

func (f *fakeStacks) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	st := cfntypes.Stack{StackName: in.StackName, StackStatus: f.status}
	for k, v := range f.outputs {
		st.Outputs = append(st.Outputs, cfntypes.Output{OutputKey: aws.String(k), OutputValue: aws.String(v)})
	}
	return &cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{st}}, nil
}

func (f *fakeStacks) ListStackResources(_ context.Context, in *cloudformation.ListStackResourcesInput, _ ...func(*cloudformation.Options)) (*cloudformation.ListStackResourcesOutput, error) {
	if f.resources != nil {
		return nil, f.resources
	}
	if in.NextToken == nil {
		return &cloudformation.ListStackResourcesOutput{NextToken: aws.String("page2"), StackResourceSummaries: []cfntypes.StackResourceSummary{
			{ResourceType: aws.String("AWS::DynamoDB::Table"), PhysicalResourceId: aws.String("accounts")}}}, nil
	}
	out := &cloudformation.ListStackResourcesOutput{}
	if f.topic != "" {
		out.StackResourceSummaries = []cfntypes.StackResourceSummary{{ResourceType: aws.String("AWS::SNS::Topic"), PhysicalResourceId: aws.String(f.topic)}}
	}
	return out, nil
}

type fakeTopics struct {
	subs   []snstypes.Subscription
	policy string
	err    error
	asked  string
}

func (f *fakeTopics) ListSubscriptionsByTopic(_ context.Context, in *sns.ListSubscriptionsByTopicInput, _ ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
	f.asked = aws.ToString(in.TopicArn)
	if f.err != nil {
		return nil, f.err
	}
	return &sns.ListSubscriptionsByTopicOutput{Subscriptions: f.subs}, nil
}

func (f *fakeTopics) GetTopicAttributes(_ context.Context, _ *sns.GetTopicAttributesInput, _ ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error) {
	return &sns.GetTopicAttributesOutput{Attributes: map[string]string{"Policy": f.policy}}, nil
}

const (
	topicARN = "arn:aws:sns:us-east-1:123456789012:Samlflex-AlarmTopic"
	// denyOnly is the topic policy an older stack had: enforceSSL's Deny and
	// nothing else, so CloudWatch could deliver no alarm.
	denyOnly = `{"Version":"2012-10-17","Statement":[{"Sid":"AllowPublishThroughSSLOnly","Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"` + topicARN + `","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	withCW   = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"x"},{"Sid":"CloudWatchAlarms","Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Publish","Resource":"x"}]}`
)

func sub(arn, endpoint string) snstypes.Subscription {
	return snstypes.Subscription{SubscriptionArn: aws.String(arn), Protocol: aws.String("email"), Endpoint: aws.String(endpoint)}
}

// TestDoctorStack runs doctor with --stack against fakes of CloudFormation,
// Secrets Manager and SNS, and the real handler.
func TestDoctorStack(t *testing.T) {
	t.Parallel()
	const base = "http://127.0.0.1:8080"
	const secretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:samlflex-keys"
	d := deploy(t, deployOpts{baseURL: base})
	outputs := map[string]string{outputBaseURL: base, outputKeysSecretArn: secretARN}
	confirmed := []snstypes.Subscription{sub("PendingConfirmation", "b@example.com"), sub(topicARN+":1", "a@example.com")}
	type check struct {
		name, seen string
		status     Status
	}
	tests := []struct {
		name       string
		baseURL    string
		topicFlag  string
		stacks     *fakeStacks
		topics     *fakeTopics
		want       []check
		wantFailed bool
	}{
		{name: "healthy stack", stacks: &fakeStacks{status: "UPDATE_COMPLETE", outputs: outputs, topic: topicARN},
			topics: &fakeTopics{subs: confirmed, policy: withCW}, want: []check{
				{"stack", "Samlflex is UPDATE_COMPLETE", StatusOK},
				{"healthz", "HTTP 200", StatusOK},
				{"rotation", "rotation enabled", StatusOK},
				{"alarm_topic", "confirmed: email:a@example.com", StatusOK},
				{"alarm_topic.policy", `statement "CloudWatchAlarms" allows sns:Publish`, StatusOK},
			}},
		{name: "rolled back", stacks: &fakeStacks{status: "UPDATE_ROLLBACK_COMPLETE", outputs: outputs, topic: topicARN},
			topics: &fakeTopics{subs: confirmed, policy: withCW}, wantFailed: true, want: []check{{"stack", "UPDATE_ROLLBACK_COMPLETE", StatusFail}}},
		{name: "deploying", stacks: &fakeStacks{status: "UPDATE_IN_PROGRESS", outputs: outputs, topic: topicARN},
			topics: &fakeTopics{subs: confirmed, policy: withCW}, want: []check{{"stack", "UPDATE_IN_PROGRESS", StatusWarn}}},
		{name: "no such stack", stacks: &fakeStacks{err: errors.New("ValidationError: Stack with id Samlflex does not exist")},
			topics: &fakeTopics{}, wantFailed: true, want: []check{
				{"stack", "does not exist", StatusFail}, {"base_url", "nothing else was checked", StatusSkip}}},
		{name: "stack without outputs", stacks: &fakeStacks{status: "CREATE_COMPLETE"}, topics: &fakeTopics{},
			wantFailed: true, want: []check{{"stack", "CREATE_COMPLETE", StatusOK}, {"base_url", "no output BaseUrl", StatusFail}}},
		{name: "no such stack but a base URL", baseURL: base, stacks: &fakeStacks{err: errors.New("AccessDenied")},
			topics: &fakeTopics{}, wantFailed: true, want: []check{{"stack", "AccessDenied", StatusFail}, {"healthz", "HTTP 200", StatusOK}}},
		{name: "base URL differs from the output", baseURL: "http://localhost:8080",
			stacks: &fakeStacks{status: "CREATE_COMPLETE", outputs: outputs, topic: topicARN}, topics: &fakeTopics{subs: confirmed, policy: withCW},
			wantFailed: true, want: []check{{"stack.base_url", "--base-url http://localhost:8080, stack output " + base, StatusWarn}, {"metadata.entity_id", "http://127.0.0.1:8080/", StatusFail}}},
		{name: "subscription not confirmed", stacks: &fakeStacks{status: "CREATE_COMPLETE", outputs: outputs, topic: topicARN},
			topics: &fakeTopics{subs: confirmed[:1], policy: withCW}, wantFailed: true, want: []check{{"alarm_topic", "only unconfirmed subscriptions: email:b@example.com", StatusFail}}},
		{name: "no subscription", stacks: &fakeStacks{status: "CREATE_COMPLETE", outputs: outputs, topic: topicARN},
			topics: &fakeTopics{policy: withCW}, wantFailed: true, want: []check{{"alarm_topic", "no subscription", StatusFail}}},
		{name: "topic policy with only the SSL Deny", stacks: &fakeStacks{status: "CREATE_COMPLETE", outputs: outputs, topic: topicARN},
			topics: &fakeTopics{subs: confirmed, policy: denyOnly}, wantFailed: true, want: []check{{"alarm_topic.policy", "no Allow of sns:Publish for CloudWatch among 1 statements (Deny)", StatusFail}}},
		{name: "stack without a topic", stacks: &fakeStacks{status: "CREATE_COMPLETE", outputs: outputs},
			topics: &fakeTopics{}, want: []check{{"alarm_topic", "no alarm topic of its own", StatusWarn}}},
		{name: "the admin's own topic", topicFlag: "arn:aws:sns:us-east-1:123456789012:ops", stacks: &fakeStacks{status: "CREATE_COMPLETE", outputs: outputs},
			topics: &fakeTopics{subs: confirmed, policy: withCW}, want: []check{{"alarm_topic", "confirmed", StatusOK}}},
		{name: "SNS refuses", stacks: &fakeStacks{status: "CREATE_COMPLETE", outputs: outputs, topic: topicARN},
			topics: &fakeTopics{err: errors.New("AuthorizationError")}, wantFailed: true, want: []check{{"alarm_topic", "AuthorizationError", StatusFail}}},
		{name: "resources unreadable", stacks: &fakeStacks{status: "CREATE_COMPLETE", outputs: outputs, resources: errors.New("AccessDenied")},
			topics: &fakeTopics{}, want: []check{{"alarm_topic", "ListStackResources failed", StatusWarn}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secrets := &fakeSecrets{out: &secretsmanager.DescribeSecretOutput{Name: aws.String("samlflex-keys"), RotationEnabled: aws.Bool(true),
				LastRotatedDate: aws.Time(time.Now().Add(-24 * time.Hour))}}
			rep, err := Run(t.Context(), Config{BaseURL: tt.baseURL, AccountSID: testSID, Transport: d.transport, Stack: "Samlflex",
				Stacks: tt.stacks, Topics: tt.topics, AlarmTopicARN: tt.topicFlag, Secrets: secrets})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.want {
				want(t, rep, c.name, c.status, c.seen)
			}
			if rep.Failed() != tt.wantFailed {
				t.Errorf("Failed() = %v, want %v\n%s", rep.Failed(), tt.wantFailed, dump(rep))
			}
			if f, ok := rep.Find("rotation"); ok && f.Status != StatusSkip && secrets.id != secretARN {
				t.Errorf("DescribeSecret of %q, want the stack output %q", secrets.id, secretARN)
			}
			if tt.topicFlag != "" && tt.topics.asked != tt.topicFlag {
				t.Errorf("subscriptions of %q, want %q", tt.topics.asked, tt.topicFlag)
			}
		})
	}
}

func TestAllowsCloudWatchPublish(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, policy string
		want         bool
		seen         string
	}{
		{"an older stack's deny-only policy", denyOnly, false, "among 1 statements (Deny)"},
		{"service principal", withCW, true, "CloudWatchAlarms"},
		{"service principal in a list, actions in a list", `{"Statement":[{"Effect":"Allow","Principal":{"Service":["events.amazonaws.com","cloudwatch.amazonaws.com"]},"Action":["sns:Subscribe","sns:Publish"]}]}`, true, "allows sns:Publish"},
		{"SNS default policy", `{"Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:Publish"],"Condition":{"StringEquals":{"AWS:SourceOwner":"123456789012"}}}]}`, true, "SNS:Publish"},
		{"wildcard action", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sns:*"}}`, true, "sns:*"},
		{"another service", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sns:Publish"}]}`, false, "no Allow"},
		{"another action", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Subscribe"}]}`, false, "no Allow"},
		{"no policy", "", true, "default"},
		{"not JSON", "{", false, "not JSON"},
		{"no statements", `{"Statement":7}`, false, "no readable Statement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, seen := allowsCloudWatchPublish(tt.policy)
			if got != tt.want || !strings.Contains(seen, tt.seen) {
				t.Errorf("got %v %q, want %v containing %q", got, seen, tt.want, tt.seen)
			}
		})
	}
}
