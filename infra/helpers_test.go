package main

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// Synth tests do not call t.Parallel: every jsii call goes through one
// Node.js child process per test binary, so parallel synths would only
// interleave on it (and jsii-runtime-go's callbacks into Go, such as
// accessLogSettings, are not documented as goroutine-safe).

// writeAssets writes acs.zip, metadata.zip and rotate.zip, each holding a
// tiny shell-script `bootstrap`, and returns their folder. A template test
// never runs the functions: CDK only hashes and stages the zip, so any zip
// does, and these tests do not depend on functions/ (built by
// scripts/build.sh and tested in the root module).
func writeAssets(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{FnACS, FnMetadata, FnRotate} {
		f, err := os.Create(filepath.Join(dir, name+".zip"))
		if err != nil {
			t.Fatal(err)
		}
		zw := zip.NewWriter(f)
		hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
		hdr.SetMode(0o755)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("#!/bin/sh\necho " + name + "\n")); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// synthesized is one synthesized stack: the CDK handles for assertions and
// the template as plain Go maps for the checks that are clearer in Go.
type synthesized struct {
	cfg       Config // with defaults
	stack     awscdk.Stack
	template  assertions.Template
	resources map[string]map[string]any // logical ID => resource
	outputs   map[string]any
}

// synth builds the stack for cfg (AssetDir filled in if empty) with
// cdk-nag applied, as main does, and synthesizes it.
func synth(t *testing.T, cfg Config) *synthesized {
	t.Helper()
	if cfg.AssetDir == "" {
		cfg.AssetDir = writeAssets(t)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: cdkJSONContext(t)})
	stack, err := NewStack(app, "Test", &StackProps{Config: cfg})
	if err != nil {
		t.Fatalf("NewStack: %v", err)
	}
	ApplyNag(app)
	tmpl, err := templateOf(stack)
	if err != nil {
		t.Fatalf("synth failed (the validation report printed above lists the findings): %v", err)
	}
	raw, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]map[string]any
		Outputs   map[string]any
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return &synthesized{cfg: cfg.withDefaults(), stack: stack, template: tmpl, resources: doc.Resources, outputs: doc.Outputs}
}

// cdkJSONContext returns the "context" of cdk.json (the feature flags), so
// that tests synthesize what `cdk synth` does.
func cdkJSONContext(t *testing.T) *map[string]interface{} {
	t.Helper()
	raw, err := os.ReadFile("cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var cdkJSON struct {
		Context map[string]interface{} `json:"context"`
	}
	if err := json.Unmarshal(raw, &cdkJSON); err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	if len(cdkJSON.Context) == 0 {
		t.Fatal("cdk.json has no context (feature flags)")
	}
	return &cdkJSON.Context
}

// templateOf synthesizes stack. With cdk.json's
// @aws-cdk/core:annotationsInValidationReport flag an unsuppressed cdk-nag
// error fails synthesis, which jsii raises as a panic; it becomes an error.
func templateOf(stack awscdk.Stack) (tmpl assertions.Template, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return assertions.Template_FromStack(stack, nil), nil
}

// ofType returns the resources of one CloudFormation type.
func (s *synthesized) ofType(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range s.resources {
		if r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

// logicalID returns the logical ID of the L1 resource behind the
// construct at path (e.g. "Acs" or "Accounts") under the stack.
func (s *synthesized) logicalID(t *testing.T, path string) string {
	t.Helper()
	c := s.stack.Node().TryFindChild(jsii.String(path))
	if c == nil {
		t.Fatalf("no construct %q in stack", path)
	}
	cfn, ok := c.Node().DefaultChild().(awscdk.CfnElement)
	if !ok {
		cfn, ok = c.(awscdk.CfnElement)
	}
	if !ok {
		t.Fatalf("construct %q has no CloudFormation resource", path)
	}
	return *s.stack.GetLogicalId(cfn)
}

// props returns a resource's Properties.
func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

// refTo returns the logical ID that v points at through Ref or
// Fn::GetAtt, or "".
func refTo(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if id, ok := m["Ref"].(string); ok {
		return id
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
		id, _ := ga[0].(string)
		return id
	}
	return ""
}

// getAtt reports whether v is {"Fn::GetAtt": [id, attr]}.
func getAtt(v any, id, attr string) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	ga, ok := m["Fn::GetAtt"].([]any)
	return ok && len(ga) == 2 && ga[0] == id && ga[1] == attr
}

// strings0 turns a CloudFormation "string or list of strings" into a list.
func strings0(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case nil:
		return nil
	default:
		return []any{x}
	}
}

// dig walks nested maps by key.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
