package doctor

import (
	"encoding/json"
	"path"
	"strconv"
	"strings"
)

// allowsCloudWatchPublish reports whether an SNS topic policy has an Allow
// statement for sns:Publish whose principal covers CloudWatch (the
// service principal, or "*" as in SNS's default policy, which limits it to
// the owner account by condition). Conditions and Deny statements are not
// evaluated: this catches the policy that has no Allow at all (an older
// stack's, where enforceSSL left only a Deny), not every way a policy can be wrong.
func allowsCloudWatchPublish(policy string) (bool, string) {
	if strings.TrimSpace(policy) == "" {
		return true, "no topic policy: SNS's default lets the owner account's alarms publish"
	}
	var doc struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		return false, "the topic policy is not JSON"
	}
	var stmts []struct {
		Sid       string
		Effect    string
		Principal json.RawMessage
		Action    json.RawMessage
	}
	if err := json.Unmarshal(doc.Statement, &stmts); err != nil {
		// A single statement may be an object.
		stmts = stmts[:0]
		var one struct {
			Sid       string
			Effect    string
			Principal json.RawMessage
			Action    json.RawMessage
		}
		if json.Unmarshal(doc.Statement, &one) != nil {
			return false, "the topic policy has no readable Statement"
		}
		stmts = append(stmts, one)
	}
	var effects []string
	for _, s := range stmts {
		effects = append(effects, s.Effect)
		if s.Effect != "Allow" || !coversCloudWatch(s.Principal) {
			continue
		}
		for _, a := range stringOrList(s.Action) {
			if m, _ := path.Match(strings.ToLower(a), "sns:publish"); m {
				return true, "statement " + quoteOr(s.Sid, "without Sid") + " allows " + a
			}
		}
	}
	return false, "no Allow of sns:Publish for CloudWatch among " + strconv.Itoa(len(stmts)) + " statements (" + strings.Join(effects, ", ") + ")"
}

func coversCloudWatch(p json.RawMessage) bool {
	if ps := stringOrList(p); len(ps) == 1 && ps[0] == "*" {
		return true
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(p, &m) != nil {
		return false
	}
	for _, v := range stringOrList(m["Service"]) {
		if v == "cloudwatch.amazonaws.com" {
			return true
		}
	}
	for _, v := range stringOrList(m["AWS"]) {
		if v == "*" {
			return true
		}
	}
	return false
}

// stringOrList reads an IAM value that is a string or a list of strings.
func stringOrList(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var list []string
	_ = json.Unmarshal(raw, &list)
	return list
}

func quoteOr(s, def string) string {
	if s == "" {
		return def
	}
	return `"` + s + `"`
}
