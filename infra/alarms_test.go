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
	if len(alarms) != 10 { // API 5xx, rotation failures and overdue, cert expiry, 2 per function
		t.Errorf("got %d alarms, want 10", len(alarms))
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

	// The same 30 days as the rotate function's SAMLFLEX_CERT_WARN_DAYS
	// (the log warning) and the alarm's description.
	cert := one("IdP certificate", alarmByMetric(s, MetricNamespace, MetricMinIdPCertificateDaysToExpiry, ""))
	if cert["Statistic"] != "Minimum" || cert["Threshold"] != 30.0 || cert["ComparisonOperator"] != "LessThanThreshold" || cert["Period"] != 86400.0 ||
		!strings.Contains(cert["AlarmDescription"].(string), "under 30 days") {
		t.Errorf("IdP certificate alarm %v", cert)
	}

	// Rotation that stops without failing: the key set's age, from the
	// daily scan, past the period (keyRotationDays) plus 3 days.
	overdue := one("key rotation overdue", alarmByMetric(s, MetricNamespace, MetricKeySetAgeDays, ""))
	wantDays := float64(s.cfg.KeyRotationDays + 3)
	if overdue["Statistic"] != "Maximum" || overdue["Threshold"] != wantDays || overdue["ComparisonOperator"] != "GreaterThanThreshold" ||
		overdue["Period"] != 86400.0 || overdue["EvaluationPeriods"] != 1.0 || overdue["Dimensions"] != nil {
		t.Errorf("key rotation overdue alarm %v, want Maximum > %v over one day", overdue, wantDays)
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
	checkAlarmTopicPolicy(t, s, topicID)
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

// checkAlarmTopicPolicy: the new topic's policy denies plain HTTP
// (enforceSSL) and allows CloudWatch to publish, for this account's
// alarms of this stack only. Without the Allow, CloudWatch's publish is
// refused and no alarm is ever delivered.
func checkAlarmTopicPolicy(t *testing.T, s *synthesized, topicID string) {
	t.Helper()
	policies := s.ofType("AWS::SNS::TopicPolicy")
	if len(policies) != 1 {
		t.Fatalf("got %d topic policies, want 1", len(policies))
	}
	var sts []any
	for _, p := range policies {
		if topics := strings0(props(p)["Topics"]); len(topics) != 1 || refTo(topics[0]) != topicID {
			t.Errorf("topic policy applies to %v, want the alarm topic", topics)
		}
		sts = strings0(dig(props(p), "PolicyDocument", "Statement"))
	}
	var denies, allows []map[string]any
	for _, st := range sts {
		m := st.(map[string]any)
		switch m["Effect"] {
		case "Deny":
			denies = append(denies, m)
		case "Allow":
			allows = append(allows, m)
		}
	}
	if len(denies) != 1 || dig(denies[0], "Condition", "Bool", "aws:SecureTransport") != "false" {
		t.Errorf("topic policy does not deny plain HTTP: %v", denies)
	}
	if len(allows) != 1 {
		t.Fatalf("got %d Allow statements, want 1 (CloudWatch publishes): %v", len(allows), allows)
	}
	a := allows[0]
	if got := dig(a, "Principal", "Service"); got != "cloudwatch.amazonaws.com" {
		t.Errorf("principal %v, want cloudwatch.amazonaws.com", a["Principal"])
	}
	if acts := strings0(a["Action"]); len(acts) != 1 || acts[0] != "sns:Publish" {
		t.Errorf("actions %v, want sns:Publish alone", acts)
	}
	if res := strings0(a["Resource"]); len(res) != 1 || refTo(res[0]) != topicID {
		t.Errorf("resource %v, want the topic", res)
	}
	if refTo(dig(a, "Condition", "StringEquals", "aws:SourceAccount")) != "AWS::AccountId" {
		t.Errorf("no aws:SourceAccount condition: %v", a["Condition"])
	}
	// aws:SourceArn lists exactly the stack's alarms.
	got := map[string]bool{}
	for _, v := range strings0(dig(a, "Condition", "ArnEquals", "aws:SourceArn")) {
		id := refTo(v)
		if !getAtt(v, id, "Arn") {
			t.Errorf("aws:SourceArn entry %v is not an alarm's Arn", v)
		}
		got[id] = true
	}
	alarms := s.ofType("AWS::CloudWatch::Alarm")
	for id := range alarms {
		if !got[id] {
			t.Errorf("alarm %s may not publish to the topic", id)
		}
	}
	if len(got) != len(alarms) {
		t.Errorf("aws:SourceArn names %d ARNs, want the %d alarms", len(got), len(alarms))
	}
	if keys := len(dig(a, "Condition").(map[string]any)); keys != 2 {
		t.Errorf("conditions %v, want StringEquals and ArnEquals only", a["Condition"])
	}
}
