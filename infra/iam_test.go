package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// statement is one IAM policy statement with the resource that holds it.
type statement struct {
	holder string // logical ID of the Policy or Role
	doc    map[string]any
}

// statements returns every identity-policy statement in the template:
// AWS::IAM::Policy, AWS::IAM::ManagedPolicy and inline Role policies.
func (s *synthesized) statements() []statement {
	var out []statement
	add := func(holder string, doc any) {
		for _, st := range strings0(dig(doc, "Statement")) {
			if m, ok := st.(map[string]any); ok {
				out = append(out, statement{holder, m})
			}
		}
	}
	for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"} {
		for id, r := range s.ofType(typ) {
			add(id, props(r)["PolicyDocument"])
		}
	}
	for id, r := range s.ofType("AWS::IAM::Role") {
		for _, p := range strings0(props(r)["Policies"]) {
			add(id, dig(p, "PolicyDocument"))
		}
	}
	return out
}

// testFlexSecretPrefix is FlexSecretPrefix of synth's stack "Test",
// written out so that the tests pin the names rather than repeat the code.
const testFlexSecretPrefix = "samlflex/Test/flex/"

// flexSecretsResource is the acs grant on the Flex connector's secrets as
// flattenResource renders it: the one pattern in the stack, written out
// (AC, 32 "?" for the SID's hex digits, "-" and 6 "?" for Secrets
// Manager's suffix).
const flexSecretsResource = "arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:" + testFlexSecretPrefix +
	"AC????????????????????????????????-??????"

// flexSecretsNotFoundResource is the same names without Secrets Manager's
// suffix: what a request for a missing secret is authorized against.
const flexSecretsNotFoundResource = "arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:" + testFlexSecretPrefix +
	"AC????????????????????????????????"

// checkNoWildcards: no statement allows a wildcard action (such as "*",
// "dynamodb:*" or "dynamodb:Get*") or uses NotAction/NotResource, no
// statement names a resource with a "*" or "?" (literal or inside
// Fn::Join and the like), and no role attaches a managed policy.
//
// The one exception: acs may GetSecretValue on flexSecretsResource and
// flexSecretsNotFoundResource, in statements that allow that action alone. Secrets Manager appends a
// random suffix to each secret's ARN, and the Flex connector's secrets
// are created after deploy (one per account), so only a pattern can name
// them (iam.go, flexSecretsArn); it uses "?" only, one per character of
// the Account SID and the suffix.
func checkNoWildcards(t *testing.T, s *synthesized) {
	t.Helper()
	sts := s.statements()
	if len(sts) == 0 {
		t.Fatal("no IAM statements found: the check is looking in the wrong place")
	}
	acsRole := s.logicalID(t, "AcsRole")
	exceptions := 0
	for _, st := range sts {
		for _, k := range []string{"NotAction", "NotResource"} {
			if _, ok := st.doc[k]; ok {
				t.Errorf("%s: statement uses %s: %v", st.holder, k, st.doc)
			}
		}
		if st.doc["Effect"] != "Allow" {
			continue
		}
		actions := strings0(st.doc["Action"])
		for _, a := range actions {
			if as, _ := a.(string); strings.Contains(as, "*") {
				t.Errorf("%s: wildcard action %q", st.holder, as)
			}
		}
		for _, r := range strings0(st.doc["Resource"]) {
			rs := flattenResource(r)
			if !strings.ContainsAny(rs, "*?") {
				continue
			}
			if (rs == flexSecretsResource || rs == flexSecretsNotFoundResource) && policyAttachedTo(s, st.holder, acsRole) &&
				len(actions) == 1 && actions[0] == "secretsmanager:GetSecretValue" {
				exceptions++
				continue
			}
			t.Errorf("%s: wildcard resource %q for %v", st.holder, rs, st.doc["Action"])
		}
	}
	if exceptions > 2 {
		t.Errorf("the Flex secrets patterns are granted %d times, want once each", exceptions)
	}
	for id, r := range s.ofType("AWS::IAM::Role") {
		if m := props(r)["ManagedPolicyArns"]; m != nil {
			t.Errorf("%s: managed policies %v", id, m)
		}
	}
}

// checkFunctionPermissions: each function's role allows exactly the
// actions its code calls (iam.go), each on exactly the set of resources
// listed here, one resource per statement and no (action, resource) pair
// granted twice.
func checkFunctionPermissions(t *testing.T, s *synthesized) {
	t.Helper()
	accounts, assertions, secret := s.logicalID(t, "Accounts"), s.logicalID(t, "Assertions"), s.logicalID(t, "SpKeySet")
	on := func(resources ...string) []string { sort.Strings(resources); return resources }
	want := map[string]map[string][]string{ // function => action => resources
		"Acs": {
			// GetItem on assertions: MarkUsed reads the item back when its
			// conditional PutItem fails (a retry of our own or a replay).
			"dynamodb:GetItem":              on(accounts, assertions),
			"dynamodb:PutItem":              on(assertions),
			"secretsmanager:GetSecretValue": on(secret, flexSecretsResource, flexSecretsNotFoundResource),
			"logs:CreateLogStream":          on(s.logicalID(t, "AcsLogs")),
			"logs:PutLogEvents":             on(s.logicalID(t, "AcsLogs")),
		},
		"Metadata": {
			"dynamodb:GetItem":              on(accounts),
			"secretsmanager:GetSecretValue": on(secret),
			"logs:CreateLogStream":          on(s.logicalID(t, "MetadataLogs")),
			"logs:PutLogEvents":             on(s.logicalID(t, "MetadataLogs")),
		},
		"Rotate": {
			"dynamodb:Scan":                           on(accounts),
			"secretsmanager:DescribeSecret":           on(secret),
			"secretsmanager:GetSecretValue":           on(secret),
			"secretsmanager:PutSecretValue":           on(secret),
			"secretsmanager:UpdateSecretVersionStage": on(secret),
			"logs:CreateLogStream":                    on(s.logicalID(t, "RotateLogs")),
			"logs:PutLogEvents":                       on(s.logicalID(t, "RotateLogs")),
		},
	}
	fns := s.ofType("AWS::Lambda::Function")
	for fn, wantActions := range want {
		roleID := refTo(props(fns[s.logicalID(t, fn)])["Role"])
		if roleID != s.logicalID(t, fn+"Role") {
			t.Errorf("%s runs as %q, want its own role", fn, roleID)
		}
		got := map[string][]string{}
		for _, st := range s.statements() {
			if !policyAttachedTo(s, st.holder, roleID) || st.doc["Effect"] != "Allow" {
				continue
			}
			res := strings0(st.doc["Resource"])
			for _, a := range strings0(st.doc["Action"]) {
				if len(res) != 1 {
					t.Errorf("%s: %v on %d resources, want 1 per statement", fn, a, len(res))
					continue
				}
				action, r := a.(string), resourceID(res[0])
				if slices.Contains(got[action], r) {
					t.Errorf("%s: %v on %s granted twice", fn, a, r)
					continue
				}
				got[action] = append(got[action], r)
			}
		}
		for _, rs := range got {
			sort.Strings(rs)
		}
		if !reflect.DeepEqual(got, wantActions) {
			t.Errorf("%s role allows\n  %v\nwant\n  %v", fn, sortedPairs(got), sortedPairs(wantActions))
		}
	}
}

// resourceID names a statement's resource: the logical ID it points at
// (Ref or Fn::GetAtt), else its flattened form.
func resourceID(v any) string {
	if id := refTo(v); id != "" {
		return id
	}
	return flattenResource(v)
}

// flattenResource renders a resource as one string the way cdk-nag's
// flattenCfnReference does for its IAM5 findings: Fn::Join joined, Ref as
// <Name>, Fn::GetAtt as <Name.Attr>, anything else as JSON. A "*" anywhere
// in the resource is therefore visible in the result.
func flattenResource(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			sep, _ := j[0].(string)
			var parts []string
			for _, p := range strings0(j[1]) {
				parts = append(parts, flattenResource(p))
			}
			return strings.Join(parts, sep)
		}
		if r, ok := x["Ref"].(string); ok {
			return "<" + r + ">"
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
			return fmt.Sprintf("<%v.%v>", ga[0], ga[1])
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// policyAttachedTo reports whether the statement holder is roleID itself
// (inline policy) or a policy attached to it.
func policyAttachedTo(s *synthesized, holder, roleID string) bool {
	if holder == roleID {
		return true
	}
	for _, r := range strings0(props(s.resources[holder])["Roles"]) {
		if refTo(r) == roleID {
			return true
		}
	}
	return false
}

func sortedPairs(m map[string][]string) []string {
	var out []string
	for k, rs := range m {
		for _, r := range rs {
			out = append(out, k+" on "+r)
		}
	}
	sort.Strings(out)
	return out
}
