package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

const (
	testCertificateArn = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
	testTopicArn       = "arn:aws:sns:us-east-1:123456789012:ops-alarms"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantErr []string // substrings; none => valid
	}{
		{name: "defaults", cfg: Config{}},
		{name: "custom domain", cfg: Config{DomainName: "sso.example.com", CertificateArn: testCertificateArn}},
		{name: "domain without certificate", cfg: Config{DomainName: "sso.example.com"}, wantErr: []string{"set both or neither"}},
		{name: "certificate without domain", cfg: Config{CertificateArn: testCertificateArn}, wantErr: []string{"set both or neither"}},
		{name: "domain as URL", cfg: Config{DomainName: "https://sso.example.com", CertificateArn: testCertificateArn}, wantErr: []string{"not a URL"}},
		{name: "certificate not ACM", cfg: Config{DomainName: "sso.example.com", CertificateArn: testTopicArn}, wantErr: []string{"ACM certificate ARN"}},
		{name: "retention not allowed", cfg: Config{LogRetentionDays: 10}, wantErr: []string{"logRetentionDays 10"}},
		{name: "rotation too long", cfg: Config{KeyRotationDays: 1001}, wantErr: []string{"keyRotationDays 1001"}},
		{name: "negative rotation", cfg: Config{KeyRotationDays: -1}, wantErr: []string{"keyRotationDays -1"}},
		{name: "bad log level", cfg: Config{LogLevel: "verbose"}, wantErr: []string{`logLevel "verbose"`}},
		{name: "negative throttle", cfg: Config{ThrottleRateLimit: -1, ThrottleBurstLimit: 0.5}, wantErr: []string{"throttleRateLimit", "throttleBurstLimit"}},
		{name: "both alarm targets", cfg: Config{AlarmEmail: "ops@example.com", AlarmTopicArn: testTopicArn}, wantErr: []string{"set one or neither"}},
		{name: "bad e-mail", cfg: Config{AlarmEmail: "ops"}, wantErr: []string{"not an e-mail"}},
		{name: "bad topic", cfg: Config{AlarmTopicArn: testCertificateArn}, wantErr: []string{"SNS topic ARN"}},
		{name: "execute-api endpoint off with a custom domain", cfg: Config{DomainName: "sso.example.com", CertificateArn: testCertificateArn, DisableExecuteApiEndpoint: true}},
		{name: "execute-api endpoint off without a custom domain", cfg: Config{DisableExecuteApiEndpoint: true}, wantErr: []string{"disableExecuteApiEndpoint needs domainName"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.withDefaults().Validate()
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want %q", tc.wantErr)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Validate: %v, want it to mention %q", err, want)
				}
			}
		})
	}
}

func TestConfigFromContext(t *testing.T) {
	t.Run("strings from -c and numbers from cdk.json", func(t *testing.T) {
		app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]interface{}{
			"assetDir":                  "/tmp/assets",
			"domainName":                "sso.example.com",
			"certificateArn":            testCertificateArn,
			"throttleRateLimit":         "5.5", // -c throttleRateLimit=5.5
			"throttleBurstLimit":        10,    // cdk.json number
			"logRetentionDays":          "365",
			"keyRotationDays":           30,
			"logLevel":                  "debug",
			"alarmEmail":                "ops@example.com",
			"disableExecuteApiEndpoint": "true", // -c disableExecuteApiEndpoint=true
		}})
		cfg, err := ConfigFromContext(app.Node())
		if err != nil {
			t.Fatal(err)
		}
		want := Config{
			AssetDir: "/tmp/assets", DomainName: "sso.example.com", CertificateArn: testCertificateArn, DisableExecuteApiEndpoint: true,
			ThrottleRateLimit: 5.5, ThrottleBurstLimit: 10, LogRetentionDays: 365, KeyRotationDays: 30,
			LogLevel: "debug", AlarmEmail: "ops@example.com",
		}
		if cfg != want {
			t.Errorf("got %+v\nwant %+v", cfg, want)
		}
	})
	t.Run("a boolean from cdk.json", func(t *testing.T) {
		app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]interface{}{
			"domainName": "sso.example.com", "certificateArn": testCertificateArn, "disableExecuteApiEndpoint": true,
		}})
		cfg, err := ConfigFromContext(app.Node())
		if err != nil || !cfg.DisableExecuteApiEndpoint {
			t.Errorf("got %+v, %v; want DisableExecuteApiEndpoint", cfg, err)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		cfg, err := ConfigFromContext(awscdk.NewApp(nil).Node())
		if err != nil {
			t.Fatal(err)
		}
		if cfg != (Config{}).withDefaults() || cfg.AssetDir != DefaultAssetDir || cfg.KeyRotationDays != 90 {
			t.Errorf("got %+v", cfg)
		}
	})
	t.Run("every bad key reported", func(t *testing.T) {
		app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]interface{}{
			"keyRotationDays":           "ninety",
			"logRetentionDays":          "7.5",
			"domainName":                42,
			"disableExecuteApiEndpoint": "yes",
		}})
		_, err := ConfigFromContext(app.Node())
		if err == nil {
			t.Fatal("no error")
		}
		for _, want := range []string{"keyRotationDays", "logRetentionDays", "domainName", "disableExecuteApiEndpoint"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%v does not mention %s", err, want)
			}
		}
	})
}

func TestNewStackNeedsAssets(t *testing.T) {
	dir := writeAssets(t)
	if err := os.Remove(filepath.Join(dir, "rotate.zip")); err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	_, err := NewStack(app, "Test", &StackProps{Config: Config{AssetDir: dir}})
	if err == nil || !strings.Contains(err.Error(), "rotate.zip") || !strings.Contains(err.Error(), "scripts/build.sh") {
		t.Errorf("NewStack without rotate.zip: %v, want a hint to scripts/build.sh", err)
	}
}

// TestConfigChangesTemplate checks that each Config field reaches the
// template (the defaults are checked in TestDefaultStack).
func TestConfigChangesTemplate(t *testing.T) {
	s := synth(t, Config{
		KeyRotationDays:    30,
		ThrottleRateLimit:  5,
		ThrottleBurstLimit: 10,
		LogRetentionDays:   365,
		LogLevel:           "debug",
	})
	for _, rs := range s.ofType("AWS::SecretsManager::RotationSchedule") {
		if got := dig(props(rs), "RotationRules", "ScheduleExpression"); got != "rate(30 days)" {
			t.Errorf("rotation schedule %v, want rate(30 days)", got)
		}
	}
	for _, st := range s.ofType("AWS::ApiGatewayV2::Stage") {
		p := props(st)
		if dig(p, "DefaultRouteSettings", "ThrottlingRateLimit") != 5.0 || dig(p, "DefaultRouteSettings", "ThrottlingBurstLimit") != 10.0 {
			t.Errorf("throttling %v", p["DefaultRouteSettings"])
		}
	}
	for id, lg := range s.ofType("AWS::Logs::LogGroup") {
		if got := props(lg)["RetentionInDays"]; got != 365.0 {
			t.Errorf("%s: retention %v, want 365", id, got)
		}
	}
	for id, fn := range s.ofType("AWS::Lambda::Function") {
		if got := dig(props(fn), "Environment", "Variables", "SAMLFLEX_LOG_LEVEL"); got != "debug" {
			t.Errorf("%s: SAMLFLEX_LOG_LEVEL %v", id, got)
		}
	}
}
