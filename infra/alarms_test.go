package main

import (
	"strings"
	"testing"
)

// alarmByMetric returns the alarm on namespace/metric (plain metric
// alarms, not math expressions).
func alarmByMetric(s *synthesized, namespace, metric string, dimension string) []map[string]any {
	var out []map[string]any
	for _, a := range s.ofType("AWS::CloudWatch::Alarm") {
		p := props(a)
		if p["Namespace"] != namespace || p["MetricName"] != metric {
			continue
		}
		if dimension != "" {
			dims := strings0(p["Dimensions"])
			if len(dims) != 1 || refTo(dig(dims[0], "Value")) != dimension {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

func checkAlarms(t *testing.T, s *synthesized) {
	t.Helper()
	alarms := s.ofType("AWS::CloudWatch::Alarm")
	if len(alarms) != 9 { // API 5xx, rotation failures, cert expiry, 2 per function
		t.Errorf("got %d alarms, want 9", len(alarms))
	}
	one := func(name string, got []map[string]any) map[string]any {
		t.Helper()
		if len(got) != 1 {
			t.Fatalf("%s: got %d alarms, want 1", name, len(got))
		}
		return got[0]
	}

	rot := one("rotation failures", alarmByMetric(s, MetricNamespace, MetricRotationFailures, ""))
	if rot["Statistic"] != "Sum" || rot["Threshold"] != 1.0 || rot["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" {
		t.Errorf("rotation failures alarm %v", rot)
	}
	if rot["Dimensions"] != nil {
		t.Errorf("rotation failures alarm has dimensions %v; rotate publishes none", rot["Dimensions"])
	}

	cert := one("IdP certificate", alarmByMetric(s, MetricNamespace, MetricMinIdPCertificateDaysToExpiry, ""))
	if cert["Statistic"] != "Minimum" || cert["Threshold"] != 14.0 || cert["ComparisonOperator"] != "LessThanThreshold" || cert["Period"] != 86400.0 {
		t.Errorf("IdP certificate alarm %v", cert)
	}

	for _, fn := range []string{"Acs", "Metadata", "Rotate"} {
		id := s.logicalID(t, fn)
		for _, metric := range []string{"Errors", "Throttles"} {
			a := one(fn+" "+metric, alarmByMetric(s, "AWS/Lambda", metric, id))
			if a["Statistic"] != "Sum" || a["Threshold"] != 1.0 || a["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" {
				t.Errorf("%s %s alarm %v", fn, metric, a)
			}
		}
	}

	var api5xx []map[string]any
	for _, a := range alarms {
		if strings.Contains(jsonString(t, props(a)["Metrics"]), `"5xx"`) {
			api5xx = append(api5xx, props(a))
		}
	}
	a := one("API 5xx", api5xx)
	metrics := jsonString(t, a["Metrics"])
	for _, want := range []string{`"MetricName":"5xx"`, `"MetricName":"Count"`, `"Namespace":"AWS/ApiGateway"`, s.logicalID(t, "HttpApi"), "100 * errors / requests"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("API 5xx alarm metrics lack %s: %s", want, metrics)
		}
	}
	if a["Threshold"] != float64(ApiServerErrorPercent) || a["ComparisonOperator"] != "GreaterThanThreshold" {
		t.Errorf("API 5xx alarm %v", a)
	}

	for id, al := range alarms {
		if props(al)["TreatMissingData"] != "notBreaching" {
			t.Errorf("%s: missing data %v", id, props(al)["TreatMissingData"])
		}
	}
}

// checkNoAlarmActions: without alarmEmail/alarmTopicArn, no topic.
func checkNoAlarmActions(t *testing.T, s *synthesized) {
	t.Helper()
	for id, a := range s.ofType("AWS::CloudWatch::Alarm") {
		if acts := props(a)["AlarmActions"]; acts != nil {
			t.Errorf("%s: actions %v without a topic", id, acts)
		}
	}
	if n := len(s.ofType("AWS::SNS::Topic")); n != 0 {
		t.Errorf("got %d topics", n)
	}
}

// checkAlarmEmail: alarmEmail creates a TLS-only topic with one e-mail
// subscription, and every alarm notifies it.
func checkAlarmEmail(t *testing.T, s *synthesized, email string) {
	t.Helper()
	topics := s.ofType("AWS::SNS::Topic")
	if len(topics) != 1 {
		t.Fatalf("got %d topics, want 1", len(topics))
	}
	var topicID string
	for id := range topics {
		topicID = id
	}
	subs := s.ofType("AWS::SNS::Subscription")
	if len(subs) != 1 {
		t.Fatalf("got %d subscriptions, want 1", len(subs))
	}
	for _, sub := range subs {
		p := props(sub)
		if p["Protocol"] != "email" || p["Endpoint"] != email || refTo(p["TopicArn"]) != topicID {
			t.Errorf("subscription %v", p)
		}
	}
	// EnforceSSL: a topic policy denying aws:SecureTransport=false.
	if pol := jsonString(t, s.ofType("AWS::SNS::TopicPolicy")); !strings.Contains(pol, "aws:SecureTransport") {
		t.Errorf("topic policy does not enforce TLS: %s", pol)
	}
	for id, a := range s.ofType("AWS::CloudWatch::Alarm") {
		acts := strings0(props(a)["AlarmActions"])
		if len(acts) != 1 || refTo(acts[0]) != topicID {
			t.Errorf("%s: actions %v, want the topic", id, acts)
		}
	}
}

// checkAlarmTopic: alarmTopicArn uses that topic and creates none.
func checkAlarmTopic(t *testing.T, s *synthesized, arn string) {
	t.Helper()
	if n := len(s.ofType("AWS::SNS::Topic")); n != 0 {
		t.Errorf("got %d topics, want 0 (the topic exists)", n)
	}
	for id, a := range s.ofType("AWS::CloudWatch::Alarm") {
		acts := strings0(props(a)["AlarmActions"])
		if len(acts) != 1 || acts[0] != arn {
			t.Errorf("%s: actions %v, want %s", id, acts, arn)
		}
	}
}
