package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
)

// nagFindings returns cdk-nag's unsuppressed errors and warnings on stack,
// each as JSON (path, rule id and message). A plain synth does not fail on
// them; `cdk synth` does, on errors.
func nagFindings(stack awscdk.Stack) (errs, warnings []string) {
	rule := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	ann := assertions.Annotations_FromStack(stack)
	for _, m := range *ann.FindError(jsii.String("*"), rule) {
		errs = append(errs, asJSON(m))
	}
	for _, m := range *ann.FindWarning(jsii.String("*"), rule) {
		warnings = append(warnings, asJSON(m))
	}
	return errs, warnings
}

func asJSON(v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

// checkNag fails on any unsuppressed AwsSolutions error or warning.
func checkNag(t *testing.T, s *synthesized) {
	t.Helper()
	errs, warnings := nagFindings(s.stack)
	for _, e := range errs {
		t.Errorf("cdk-nag error: %s", e)
	}
	for _, w := range warnings {
		t.Errorf("cdk-nag warning: %s", w)
	}
}

// TestNagIsActive: checkNag would pass vacuously if nag never ran. With
// cdk.json's flags, a topic that allows plain HTTP (AwsSolutions-SNS3)
// must fail synthesis, as it fails `cdk synth` and `cdk deploy`.
func TestNagIsActive(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: cdkJSONContext(t)})
	stack := awscdk.NewStack(app, jsii.String("Control"), nil)
	awssns.NewTopic(stack, jsii.String("Plain"), nil)
	ApplyNag(app)
	if _, err := templateOf(stack); err == nil {
		t.Fatal("synth passed with a non-TLS topic: cdk-nag did not run, or its errors no longer fail synthesis")
	}
}

// TestNagFlexSuppressionIsScoped: acs's role carries no AwsSolutions-IAM5
// suppression (the Flex secrets pattern in iam.go has no "*"), so a
// wildcard resource added to it must fail synthesis, as the only finding.
// checkNoWildcards also rejects "?" patterns other than the Flex one,
// which cdk-nag does not look for.
func TestNagFlexSuppressionIsScoped(t *testing.T) {
	for _, tc := range []struct{ name, resource string }{
		{"another prefix", "arn:aws:secretsmanager:us-east-1:123456789012:secret:other/*"},
		{"a sibling of the prefix", "arn:aws:secretsmanager:us-east-1:123456789012:secret:samlflex/Test/*"},
		{"the whole Flex prefix", "arn:aws:secretsmanager:us-east-1:123456789012:secret:samlflex/Test/flex/*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out), Context: cdkJSONContext(t)})
			stack, err := NewStack(app, "Test", &StackProps{Config: Config{AssetDir: writeAssets(t)}})
			if err != nil {
				t.Fatalf("NewStack: %v", err)
			}
			role, ok := stack.Node().FindChild(jsii.String("AcsRole")).(awsiam.Role)
			if !ok {
				t.Fatal("AcsRole is not an iam.Role")
			}
			role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
				Resources: jsii.Strings(tc.resource),
			}))
			ApplyNag(app)
			_, err = templateOf(stack)
			if err == nil {
				t.Fatalf("synth passed with %s on acs's role: an IAM5 suppression covers it", tc.resource)
			}
			report, rerr := os.ReadFile(filepath.Join(out, "validation-report.json"))
			if rerr != nil {
				t.Fatalf("synth failed (%v) without a validation report: %v", err, rerr)
			}
			var doc struct {
				PluginReports []struct {
					Violations []struct{ Description string }
				}
			}
			if err := json.Unmarshal(report, &doc); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range doc.PluginReports {
				for _, v := range p.Violations {
					got = append(got, strings.SplitN(v.Description, "]", 2)[0]+"]")
				}
			}
			// Only the added wildcard.
			want := "AwsSolutions-IAM5[Resource::" + tc.resource + "]"
			if len(got) != 1 || got[0] != want {
				t.Errorf("violations %q, want only %q", got, want)
			}
		})
	}
}
