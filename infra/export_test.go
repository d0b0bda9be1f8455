package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/functions.json from the synthesized template")

// functionsFile is what the root module's emulator tests (test/lambda)
// know of the stack: each function's role statements and environment, as
// synthesized, with the template's references replaced by ${Name}
// placeholders. The root module cannot import CDK, so the file is the
// contract: test/lambda starts each function with this environment and
// checks every AWS call it records against these statements (a missing
// grant fails there, not in a first production login). This test keeps
// the file equal to the template; after a deliberate change run
// `go test -run TestDefaultStack -update` and review the diff.
const functionsFile = "testdata/functions.json"

// exported is the content of functionsFile.
type exported struct {
	// StackName is synth's stack name; FlexSecretPrefix contains it.
	StackName string                      `json:"stackName"`
	Functions map[string]exportedFunction `json:"functions"`
	// AlarmMetrics are the metrics in namespace samlflex that alarms
	// watch, without dimensions: the rotate function must publish each
	// under exactly this name (test/lambda checks its EMF output), or the
	// alarm silently never fires.
	AlarmMetrics []string `json:"alarmMetrics"`
}

type exportedFunction struct {
	Environment map[string]string   `json:"environment"`
	Statements  []exportedStatement `json:"statements"`
}

type exportedStatement struct {
	Sid       string   `json:"sid"`
	Actions   []string `json:"actions"`
	Resources []string `json:"resources"`
}

// exportFunctions renders each function's role statements and environment
// with placeholders: ${AWS::Partition} and the other pseudo parameters,
// ${<Name>} for a Ref and ${<Name>.<Attr>} for a Fn::GetAtt of the
// resources the functions use. Any other reference fails the test: the
// emulator could not resolve it.
func exportFunctions(t *testing.T, s *synthesized) exported {
	t.Helper()
	names := map[string]string{}
	for path, name := range map[string]string{
		"Accounts": "AccountsTable", "Assertions": "AssertionsTable", "SpKeySet": "KeysSecret", "HttpApi": "HttpApi",
		"AcsLogs": "OwnLogGroup", "MetadataLogs": "OwnLogGroup", "RotateLogs": "OwnLogGroup",
	} {
		names[s.logicalID(t, path)] = name
	}
	var render func(v any) string
	render = func(v any) string {
		switch x := v.(type) {
		case string:
			return x
		case map[string]any:
			if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
				var parts []string
				for _, p := range strings0(j[1]) {
					parts = append(parts, render(p))
				}
				return strings.Join(parts, j[0].(string))
			}
			if r, ok := x["Ref"].(string); ok {
				if strings.HasPrefix(r, "AWS::") {
					return "${" + r + "}"
				}
				if n, ok := names[r]; ok {
					return "${" + n + "}"
				}
			}
			if ga, ok := x["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
				if n, ok := names[ga[0].(string)]; ok {
					return "${" + n + "." + ga[1].(string) + "}"
				}
			}
		}
		t.Fatalf("cannot export %s: not a reference test/lambda can resolve", jsonString(t, v))
		return ""
	}
	out := exported{StackName: *s.stack.StackName(), Functions: map[string]exportedFunction{}}
	fns := s.ofType("AWS::Lambda::Function")
	for _, fn := range []struct{ name, id string }{{FnACS, "Acs"}, {FnMetadata, "Metadata"}, {FnRotate, "Rotate"}} {
		p := props(fns[s.logicalID(t, fn.id)])
		ef := exportedFunction{Environment: map[string]string{}}
		for k, v := range dig(p, "Environment", "Variables").(map[string]any) {
			ef.Environment[k] = render(v)
		}
		roleID := refTo(p["Role"])
		for _, st := range s.statements() {
			if !policyAttachedTo(s, st.holder, roleID) {
				continue
			}
			if st.doc["Effect"] != "Allow" {
				t.Fatalf("%s: %v statement; the export only knows Allow", fn.name, st.doc["Effect"])
			}
			es := exportedStatement{Sid: st.doc["Sid"].(string)}
			for _, a := range strings0(st.doc["Action"]) {
				es.Actions = append(es.Actions, a.(string))
			}
			for _, r := range strings0(st.doc["Resource"]) {
				es.Resources = append(es.Resources, render(r))
			}
			ef.Statements = append(ef.Statements, es)
		}
		sort.Slice(ef.Statements, func(i, j int) bool { return ef.Statements[i].Sid < ef.Statements[j].Sid })
		out.Functions[fn.name] = ef
	}
	for id, a := range s.ofType("AWS::CloudWatch::Alarm") {
		p := props(a)
		if p["Namespace"] != MetricNamespace {
			continue
		}
		if p["Dimensions"] != nil {
			t.Fatalf("%s: alarm on %v has dimensions; the export assumes none", id, p["MetricName"])
		}
		out.AlarmMetrics = append(out.AlarmMetrics, p["MetricName"].(string))
	}
	sort.Strings(out.AlarmMetrics)
	return out
}

// checkFunctionsFile compares functionsFile with the template (or rewrites
// it with -update).
func checkFunctionsFile(t *testing.T, s *synthesized) {
	t.Helper()
	got, err := json.MarshalIndent(exportFunctions(t, s), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(functionsFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(filepath.FromSlash(functionsFile))
	if err != nil {
		t.Fatalf("%v (create it with go test -run TestDefaultStack -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the synthesized template; if the change is deliberate, run go test -run TestDefaultStack -update "+
			"and review the diff (test/lambda checks the functions' AWS calls against it).\ngot:\n%s", functionsFile, got)
	}
}
