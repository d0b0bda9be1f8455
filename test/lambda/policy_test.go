package lambda_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/samlflex/samlflex/internal/samlflextest"
)

// stackFunctions is infra/testdata/functions.json: each function's role
// statements and environment from the synthesized template, with
// ${Name} placeholders for the stack's resources. The infra tests keep it
// equal to the template.
type stackFunctions struct {
	StackName string `json:"stackName"`
	Functions map[string]struct {
		Environment map[string]string `json:"environment"`
		Statements  []policyStatement `json:"statements"`
	} `json:"functions"`
	// AlarmMetrics: the dimensionless samlflex metrics alarms watch.
	AlarmMetrics []string `json:"alarmMetrics"`
}

type policyStatement struct {
	Sid       string   `json:"sid"`
	Actions   []string `json:"actions"`
	Resources []string `json:"resources"`
}

func loadStackFunctions(t *testing.T) stackFunctions {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samlflextest.ModuleRoot(t), "infra", "testdata", "functions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sf stackFunctions
	if err := json.Unmarshal(b, &sf); err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"acs", "metadata", "rotate"} {
		if len(sf.Functions[fn].Statements) == 0 {
			t.Fatalf("functions.json has no statements for %s", fn)
		}
	}
	return sf
}

// substitute replaces every ${Name} in s by vars[Name]; an unknown name
// fails the test, so a new reference in the template cannot silently
// match nothing (or everything).
func substitute(t *testing.T, s string, vars map[string]string) string {
	t.Helper()
	var out strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			out.WriteString(s)
			return out.String()
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			t.Fatalf("unterminated placeholder in %q", s)
		}
		name := s[i+2 : i+j]
		v, ok := vars[name]
		if !ok {
			t.Fatalf("functions.json names ${%s}, which the emulated stack does not provide", name)
		}
		out.WriteString(s[:i] + v)
		s = s[i+j+1:]
	}
}

// iamMatch reports whether value matches an IAM pattern: "*" matches any
// run of characters (none included), "?" exactly one, everything else
// itself. Resource ARNs compare case-sensitively, actions do not
// (callers lower-case both).
func iamMatch(pattern, value string) bool {
	// Iterative glob with one backtrack point, as IAM's matching needs no
	// more (no character classes, no escapes).
	p, v := 0, 0
	star, mark := -1, 0
	for v < len(value) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == value[v]):
			p++
			v++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, v
			p++
		case star >= 0:
			p = star + 1
			mark++
			v = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// grant is one (action, resource pattern) a statement allows.
type grant struct {
	sid, action, resource string
}

// grants expands statements into (action, resource) pairs with the
// placeholders resolved.
func grants(t *testing.T, sts []policyStatement, vars map[string]string) []grant {
	t.Helper()
	var out []grant
	for _, st := range sts {
		for _, a := range st.Actions {
			for _, r := range st.Resources {
				out = append(out, grant{st.Sid, a, substitute(t, r, vars)})
			}
		}
	}
	return out
}

// allowedBy returns the grants that allow c.
func allowedBy(c awsCall, gs []grant) []grant {
	var out []grant
	for _, g := range gs {
		if iamMatch(strings.ToLower(g.action), strings.ToLower(c.Action)) && iamMatch(g.resource, c.Resource) {
			out = append(out, g)
		}
	}
	return out
}

// checkCalls returns the calls no grant allows, and the grants no call
// used. Actions under logs: are the Lambda service's (it writes the
// function's log group for it) and never appear as calls; they are left
// out of the unused list.
func checkCalls(calls []awsCall, gs []grant) (denied []awsCall, unused []grant) {
	used := map[grant]bool{}
	for _, c := range calls {
		by := allowedBy(c, gs)
		if len(by) == 0 {
			denied = append(denied, c)
		}
		for _, g := range by {
			used[g] = true
		}
	}
	for _, g := range gs {
		if !used[g] && !strings.HasPrefix(g.action, "logs:") && !slices.Contains(unused, g) {
			unused = append(unused, g)
		}
	}
	return denied, unused
}

func TestIAMMatch(t *testing.T) {
	t.Parallel()
	const flex = "arn:aws:secretsmanager:us-east-1:1:secret:samlflex/Test/flex/AC????????????????????????????????-??????"
	for _, tc := range []struct {
		pattern, value string
		want           bool
	}{
		{"arn:aws:dynamodb:r:1:table/a", "arn:aws:dynamodb:r:1:table/a", true},
		{"arn:aws:dynamodb:r:1:table/a", "arn:aws:dynamodb:r:1:table/ab", false},
		{"arn:aws:dynamodb:r:1:table/a", "arn:aws:dynamodb:r:1:table/A", false},
		{"arn:aws:dynamodb:r:1:table/*", "arn:aws:dynamodb:r:1:table/", true},
		{"arn:aws:dynamodb:r:1:table/*", "arn:aws:dynamodb:r:1:table/a/index/b", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"a*bc", "abcbc", true},
		{"*", "", true},
		{"?", "", false},
		{"??", "ab", true},
		{"??", "abc", false},
		{flex, "arn:aws:secretsmanager:us-east-1:1:secret:samlflex/Test/flex/ACfeedfacefeedfacefeedfacefeedface-AbCdEf", true},
		// Another name under the prefix, a longer SID, no suffix.
		{flex, "arn:aws:secretsmanager:us-east-1:1:secret:samlflex/Test/flex/other-secret-name-AbCdEf", false},
		{flex, "arn:aws:secretsmanager:us-east-1:1:secret:samlflex/Test/flex/ACfeedfacefeedfacefeedfacefeedface00-AbCdEf", false},
		{flex, "arn:aws:secretsmanager:us-east-1:1:secret:samlflex/Test/flex/ACfeedfacefeedfacefeedfacefeedface", false},
		{"secretsmanager:getsecretvalue", "secretsmanager:getsecretvalue", true},
		{"secretsmanager:get*", "secretsmanager:getsecretvalue", true},
	} {
		if got := iamMatch(tc.pattern, tc.value); got != tc.want {
			t.Errorf("iamMatch(%q, %q) = %v, want %v", tc.pattern, tc.value, got, tc.want)
		}
	}
}
