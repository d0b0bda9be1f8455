package main

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestDefaultStack synthesizes the stack once with the default Config and
// checks the contract with the runtime and the settings the stack promises
// (routes, TTL, rotation schedule, scoped roles).
func TestDefaultStack(t *testing.T) {
	s := synth(t, Config{})
	fnID := map[string]string{
		FnACS:      s.logicalID(t, "Acs"),
		FnMetadata: s.logicalID(t, "Metadata"),
		FnRotate:   s.logicalID(t, "Rotate"),
	}
	apiID := s.logicalID(t, "HttpApi")
	accountsID := s.logicalID(t, "Accounts")
	assertionsID := s.logicalID(t, "Assertions")
	secretID := s.logicalID(t, "SpKeySet")

	t.Run("routes target the right function", func(t *testing.T) {
		routes := s.ofType("AWS::ApiGatewayV2::Route")
		if len(routes) != len(Routes()) {
			t.Errorf("got %d routes, want %d", len(routes), len(Routes()))
		}
		integrations := s.ofType("AWS::ApiGatewayV2::Integration")
		byKey := map[string]map[string]any{}
		for _, r := range routes {
			byKey[props(r)["RouteKey"].(string)] = props(r)
		}
		for _, want := range Routes() {
			key := string(want.Method) + " " + want.Path
			r, ok := byKey[key]
			if !ok {
				t.Errorf("no route %q", key)
				continue
			}
			if refTo(r["ApiId"]) != apiID {
				t.Errorf("%s: ApiId %v", key, r["ApiId"])
			}
			if a, ok := r["AuthorizationType"]; ok && a != "NONE" {
				t.Errorf("%s: AuthorizationType %v, want none (public route)", key, a)
			}
			// Target is {"Fn::Join": ["", ["integrations/", {"Ref": id}]]}.
			parts := dig(r["Target"], "Fn::Join").([]any)[1].([]any)
			integ, ok := integrations[refTo(parts[1])]
			if parts[0] != "integrations/" || !ok {
				t.Errorf("%s: target %v is not an integration", key, r["Target"])
				continue
			}
			ip := props(integ)
			if got := refTo(ip["IntegrationUri"]); got != fnID[want.Function] {
				t.Errorf("%s: integration invokes %s, want %s (%s)", key, got, fnID[want.Function], want.Function)
			}
			if ip["IntegrationType"] != "AWS_PROXY" || ip["PayloadFormatVersion"] != "2.0" {
				t.Errorf("%s: integration %v %v, want AWS_PROXY 2.0", key, ip["IntegrationType"], ip["PayloadFormatVersion"])
			}
		}
	})

	t.Run("API Gateway may invoke each route's function, scoped to that route and method", func(t *testing.T) {
		// Every permission for API Gateway, by "function METHOD path".
		got := map[string]int{}
		for id, p := range s.ofType("AWS::Lambda::Permission") {
			pp := props(p)
			if pp["Principal"] != "apigateway.amazonaws.com" {
				continue
			}
			// {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
			// ":execute-api:", ..., ":", {"Ref": api}, "/*/METHOD/path"]]}
			parts := strings0(dig(pp["SourceArn"], "Fn::Join").([]any)[1])
			last, _ := parts[len(parts)-1].(string)
			if refTo(parts[len(parts)-2]) != apiID || !strings.HasPrefix(last, "/*/") {
				t.Errorf("%s: source ARN %s is not this API's, any stage", id, jsonString(t, pp["SourceArn"]))
				continue
			}
			method, path, _ := strings.Cut(strings.TrimPrefix(last, "/*/"), "/")
			if method == "*" {
				t.Errorf("%s: any method may invoke: %s", id, last)
			}
			got[refTo(pp["FunctionName"])+" "+method+" /"+path]++
		}
		want := map[string]int{}
		for _, r := range Routes() {
			want[fnID[r.Function]+" "+string(r.Method)+" "+r.Path]++
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("invoke permissions (function METHOD path)\n  %v\nwant one per route\n  %v", got, want)
		}
	})

	t.Run("stage: throttling and access log", func(t *testing.T) {
		stages := s.ofType("AWS::ApiGatewayV2::Stage")
		if len(stages) != 1 {
			t.Fatalf("got %d stages, want 1", len(stages))
		}
		for _, st := range stages {
			p := props(st)
			if p["StageName"] != "$default" || p["AutoDeploy"] != true {
				t.Errorf("stage %v autoDeploy %v", p["StageName"], p["AutoDeploy"])
			}
			if got := dig(p, "DefaultRouteSettings", "ThrottlingRateLimit"); got != float64(DefaultThrottleRateLimit) {
				t.Errorf("rate limit %v", got)
			}
			if got := dig(p, "DefaultRouteSettings", "ThrottlingBurstLimit"); got != float64(DefaultThrottleBurstLimit) {
				t.Errorf("burst limit %v", got)
			}
			dest := refTo(dig(p, "AccessLogSettings", "DestinationArn"))
			lg, ok := s.resources[dest]
			if !ok || lg["Type"] != "AWS::Logs::LogGroup" {
				t.Fatalf("access log destination %q is not a log group", dest)
			}
			format, _ := dig(p, "AccessLogSettings", "Format").(string)
			var fields map[string]string
			if err := json.Unmarshal([]byte(format), &fields); err != nil {
				t.Fatalf("access log format is not JSON: %v", err)
			}
			if fields["requestId"] != "$context.requestId" || fields["status"] != "$context.status" {
				t.Errorf("access log format lacks requestId/status: %s", format)
			}
			// The login link's RelayState is in the query string.
			if strings.Contains(strings.ToLower(format), "querystring") {
				t.Errorf("access log format logs the query string: %s", format)
			}
		}
	})

	t.Run("functions: arm64, provided.al2023, JSON logs, env", func(t *testing.T) {
		fns := s.ofType("AWS::Lambda::Function")
		if len(fns) != 3 {
			t.Errorf("got %d functions, want 3", len(fns))
		}
		for name, id := range fnID {
			p := props(fns[id])
			if got := strings0(p["Architectures"]); len(got) != 1 || got[0] != "arm64" {
				t.Errorf("%s: architectures %v", name, got)
			}
			if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" {
				t.Errorf("%s: runtime %v handler %v", name, p["Runtime"], p["Handler"])
			}
			// From measured CPU per invocation (functions.go, docs/aws.md).
			if wantMemory := map[string]float64{FnACS: 512, FnMetadata: 256, FnRotate: 128}[name]; p["MemorySize"] != wantMemory {
				t.Errorf("%s: memory %v, want %v", name, p["MemorySize"], wantMemory)
			}
			// acs's Flex calls have an 8 s budget (functions.go).
			if wantTimeout := map[string]float64{FnACS: 10, FnMetadata: 10, FnRotate: 60}[name]; p["Timeout"] != wantTimeout {
				t.Errorf("%s: timeout %v, want %v", name, p["Timeout"], wantTimeout)
			}
			checkLogLevel(t, name, p, "info", "INFO")
			lg := refTo(dig(p, "LoggingConfig", "LogGroup"))
			if r, ok := s.resources[lg]; !ok || r["Type"] != "AWS::Logs::LogGroup" {
				t.Errorf("%s: log group %q", name, lg)
			}
			env, _ := dig(p, "Environment", "Variables").(map[string]any)
			var keys []string
			for k := range env {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			// Only what each function's config.Load reads.
			wantKeys := map[string][]string{
				// Only acs reads the Flex connector's secrets.
				FnACS:      {"SAMLFLEX_ACCOUNTS_TABLE", "SAMLFLEX_ASSERTIONS_TABLE", "SAMLFLEX_BASE_URL", "SAMLFLEX_FLEX_SECRET_PREFIX", "SAMLFLEX_KEYS_SECRET_ID", "SAMLFLEX_LOG_LEVEL"},
				FnMetadata: {"SAMLFLEX_ACCOUNTS_TABLE", "SAMLFLEX_ASSERTIONS_TABLE", "SAMLFLEX_BASE_URL", "SAMLFLEX_KEYS_SECRET_ID", "SAMLFLEX_LOG_LEVEL"},
				// rotate serves no HTTP and writes no assertions.
				FnRotate: {"SAMLFLEX_ACCOUNTS_TABLE", "SAMLFLEX_CERT_WARN_DAYS", "SAMLFLEX_KEYS_SECRET_ID", "SAMLFLEX_KEY_ROTATION_DAYS", "SAMLFLEX_LOG_LEVEL"},
			}[name]
			if !reflect.DeepEqual(keys, wantKeys) {
				t.Errorf("%s: env keys %v, want %v", name, keys, wantKeys)
			}
			if name == FnACS && env["SAMLFLEX_FLEX_SECRET_PREFIX"] != testFlexSecretPrefix {
				t.Errorf("%s: SAMLFLEX_FLEX_SECRET_PREFIX %v, want %q", name, env["SAMLFLEX_FLEX_SECRET_PREFIX"], testFlexSecretPrefix)
			}
			if name == FnRotate {
				// The certificates' validity follows the period; the
				// scan's log warning starts with the alarm.
				if env["SAMLFLEX_KEY_ROTATION_DAYS"] != "90" || env["SAMLFLEX_CERT_WARN_DAYS"] != "30" {
					t.Errorf("%s: SAMLFLEX_KEY_ROTATION_DAYS %v SAMLFLEX_CERT_WARN_DAYS %v, want 90 and 30",
						name, env["SAMLFLEX_KEY_ROTATION_DAYS"], env["SAMLFLEX_CERT_WARN_DAYS"])
				}
			} else {
				if !getAtt(env["SAMLFLEX_BASE_URL"], apiID, "ApiEndpoint") {
					t.Errorf("%s: SAMLFLEX_BASE_URL %v, want the API endpoint", name, env["SAMLFLEX_BASE_URL"])
				}
				if refTo(env["SAMLFLEX_ASSERTIONS_TABLE"]) != assertionsID {
					t.Errorf("%s: SAMLFLEX_ASSERTIONS_TABLE %v", name, env["SAMLFLEX_ASSERTIONS_TABLE"])
				}
			}
			if refTo(env["SAMLFLEX_ACCOUNTS_TABLE"]) != accountsID {
				t.Errorf("%s: SAMLFLEX_ACCOUNTS_TABLE %v", name, env["SAMLFLEX_ACCOUNTS_TABLE"])
			}
			// Ref of a secret is its full ARN.
			if refTo(env["SAMLFLEX_KEYS_SECRET_ID"]) != secretID {
				t.Errorf("%s: SAMLFLEX_KEYS_SECRET_ID %v", name, env["SAMLFLEX_KEYS_SECRET_ID"])
			}
			if env["SAMLFLEX_LOG_LEVEL"] != "info" {
				t.Errorf("%s: SAMLFLEX_LOG_LEVEL %v", name, env["SAMLFLEX_LOG_LEVEL"])
			}
		}
	})

	t.Run("every log group has the retention", func(t *testing.T) {
		lgs := s.ofType("AWS::Logs::LogGroup")
		if len(lgs) != 4 { // three functions + API access log
			t.Errorf("got %d log groups, want 4", len(lgs))
		}
		for id, lg := range lgs {
			if got := props(lg)["RetentionInDays"]; got != float64(DefaultLogRetentionDays) {
				t.Errorf("%s: retention %v", id, got)
			}
		}
	})

	t.Run("accounts table", func(t *testing.T) {
		r := s.resources[accountsID]
		p := props(r)
		checkTable(t, p, AccountsPartitionKey)
		if r["DeletionPolicy"] != "Retain" || r["UpdateReplacePolicy"] != "Retain" {
			t.Errorf("deletion %v replace %v, want Retain", r["DeletionPolicy"], r["UpdateReplacePolicy"])
		}
		if p["DeletionProtectionEnabled"] != true {
			t.Errorf("deletion protection %v", p["DeletionProtectionEnabled"])
		}
		if p["TimeToLiveSpecification"] != nil {
			t.Errorf("unexpected TTL %v", p["TimeToLiveSpecification"])
		}
	})

	t.Run("assertions table", func(t *testing.T) {
		p := props(s.resources[assertionsID])
		checkTable(t, p, AssertionsPartitionKey)
		ttl := p["TimeToLiveSpecification"]
		if dig(ttl, "AttributeName") != AssertionsTTLAttribute || dig(ttl, "Enabled") != true {
			t.Errorf("TTL %v", ttl)
		}
	})

	t.Run("key rotation every 90 days by rotate", func(t *testing.T) {
		schedules := s.ofType("AWS::SecretsManager::RotationSchedule")
		if len(schedules) != 1 {
			t.Fatalf("got %d rotation schedules, want 1", len(schedules))
		}
		for _, rs := range schedules {
			p := props(rs)
			if got := dig(p, "RotationRules", "ScheduleExpression"); got != "rate(90 days)" {
				t.Errorf("schedule %v", got)
			}
			if refTo(p["SecretId"]) != secretID || refTo(p["RotationLambdaARN"]) != fnID[FnRotate] {
				t.Errorf("secret %v lambda %v", p["SecretId"], p["RotationLambdaARN"])
			}
			// The first rotation starts when the schedule is created: the
			// invoke permission and rotate's policy must exist by then.
			deps := strings0(rs["DependsOn"])
			if !containsPrefix(deps, "RotateInvokeBySecretsManager") || !containsPrefix(deps, "RotateRoleDefaultPolicy") {
				t.Errorf("DependsOn %v lacks the invoke permission or rotate's policy", deps)
			}
		}
		var invokes []map[string]any
		for _, perm := range s.ofType("AWS::Lambda::Permission") {
			if props(perm)["Principal"] == "secretsmanager.amazonaws.com" {
				invokes = append(invokes, props(perm))
			}
		}
		// Only this account's rotation of this secret may run rotate.
		if len(invokes) != 1 || refTo(invokes[0]["FunctionName"]) != fnID[FnRotate] ||
			refTo(invokes[0]["SourceAccount"]) != "AWS::AccountId" || refTo(invokes[0]["SourceArn"]) != secretID {
			t.Errorf("secretsmanager invoke permissions %v, want one on rotate with SourceAccount and SourceArn (the key secret)", invokes)
		}
	})

	t.Run("daily IdP certificate scan invokes rotate", func(t *testing.T) {
		rules := s.ofType("AWS::Events::Rule")
		if len(rules) != 1 {
			t.Fatalf("got %d rules, want 1", len(rules))
		}
		for _, r := range rules {
			p := props(r)
			if p["ScheduleExpression"] != "rate(1 day)" {
				t.Errorf("schedule %v", p["ScheduleExpression"])
			}
			targets := strings0(p["Targets"])
			if len(targets) != 1 || refTo(dig(targets[0], "Arn")) != fnID[FnRotate] {
				t.Fatalf("targets %v", targets)
			}
			var input map[string]string
			if err := json.Unmarshal([]byte(dig(targets[0], "Input").(string)), &input); err != nil || input["action"] != ScanEventAction {
				t.Errorf("input %v (%v)", dig(targets[0], "Input"), err)
			}
		}
	})

	t.Run("outputs", func(t *testing.T) {
		if !getAtt(dig(s.outputs, "BaseUrl", "Value"), apiID, "ApiEndpoint") {
			t.Errorf("BaseUrl %v", s.outputs["BaseUrl"])
		}
		cmd := jsonString(t, dig(s.outputs, "AccountUrlsCommand", "Value"))
		for _, want := range []string{"samlflex account get --account-sid ACxxx --base-url ", " --dynamodb-table ", accountsID, "ApiEndpoint"} {
			if !strings.Contains(cmd, want) {
				t.Errorf("AccountUrlsCommand %s lacks %q", cmd, want)
			}
		}
		if got := dig(s.outputs, "FlexSecretPrefix", "Value"); got != testFlexSecretPrefix {
			t.Errorf("FlexSecretPrefix %v, want %q (acs's SAMLFLEX_FLEX_SECRET_PREFIX)", got, testFlexSecretPrefix)
		}
		if _, ok := s.outputs["CustomDomainTarget"]; ok {
			t.Error("CustomDomainTarget without a custom domain")
		}
	})

	t.Run("least privilege", func(t *testing.T) {
		checkNoWildcards(t, s)
		checkFunctionPermissions(t, s)
	})
	t.Run("alarms", func(t *testing.T) {
		checkAlarms(t, s)
		checkNoAlarmActions(t, s)
	})
	t.Run("cdk-nag", func(t *testing.T) { checkNag(t, s) })
	t.Run("testdata/functions.json matches", func(t *testing.T) { checkFunctionsFile(t, s) })

	t.Run("no custom domain by default", func(t *testing.T) {
		if n := len(s.ofType("AWS::ApiGatewayV2::DomainName")) + len(s.ofType("AWS::ApiGatewayV2::ApiMapping")); n != 0 {
			t.Errorf("got %d domain resources, want 0", n)
		}
	})
}

// TestStackVariants synthesizes each optional feature once and runs its
// checks plus the ones every variant must pass (least privilege, alarms,
// cdk-nag): the custom domain and the e-mail topic add resources with
// their own policies.
func TestStackVariants(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		check func(*testing.T, *synthesized)
	}{
		{
			name: "custom domain and alarm e-mail",
			cfg:  Config{DomainName: "sso.example.com", CertificateArn: testCertificateArn, AlarmEmail: "ops@example.com"},
			check: func(t *testing.T, s *synthesized) {
				t.Run("custom domain", func(t *testing.T) { checkCustomDomain(t, s) })
				t.Run("alarm e-mail", func(t *testing.T) { checkAlarmEmail(t, s, "ops@example.com") })
			},
		},
		{
			name: "custom domain only: execute-api endpoint off",
			cfg:  Config{DomainName: "sso.example.com", CertificateArn: testCertificateArn, DisableExecuteApiEndpoint: true},
			check: func(t *testing.T, s *synthesized) {
				checkExecuteAPIEndpoint(t, s, false)
				if got := dig(s.outputs, "BaseUrl", "Value"); got != "https://sso.example.com" {
					t.Errorf("BaseUrl %v, want the custom domain", got)
				}
			},
		},
		{
			name: "existing alarm topic, longest rotation period, debug logs",
			cfg:  Config{AlarmTopicArn: testTopicArn, KeyRotationDays: 1000, LogLevel: "debug"},
			check: func(t *testing.T, s *synthesized) {
				checkAlarmTopic(t, s, testTopicArn)
				for _, name := range []string{"Acs", "Metadata", "Rotate"} {
					checkLogLevel(t, name, props(s.resources[s.logicalID(t, name)]), "debug", "DEBUG")
				}
				// rotate derives its certificates' validity from this.
				env := dig(props(s.resources[s.logicalID(t, "Rotate")]), "Environment", "Variables")
				if got := dig(env, "SAMLFLEX_KEY_ROTATION_DAYS"); got != "1000" {
					t.Errorf("rotate: SAMLFLEX_KEY_ROTATION_DAYS %v, want 1000", got)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := synth(t, tc.cfg)
			tc.check(t, s)
			t.Run("least privilege", func(t *testing.T) {
				checkNoWildcards(t, s)
				checkFunctionPermissions(t, s)
			})
			t.Run("alarms", func(t *testing.T) { checkAlarms(t, s) })
			t.Run("cdk-nag", func(t *testing.T) { checkNag(t, s) })
		})
	}
}

func checkTable(t *testing.T, p map[string]any, key string) {
	t.Helper()
	if p["BillingMode"] != "PAY_PER_REQUEST" {
		t.Errorf("billing %v", p["BillingMode"])
	}
	if dig(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled") != true {
		t.Errorf("PITR %v", p["PointInTimeRecoverySpecification"])
	}
	// SSEEnabled without a key ID: KMS with the AWS managed key aws/dynamodb.
	if dig(p, "SSESpecification", "SSEEnabled") != true || dig(p, "SSESpecification", "KMSMasterKeyId") != nil {
		t.Errorf("SSE %v, want the AWS managed key", p["SSESpecification"])
	}
	ks := strings0(p["KeySchema"])
	ad := strings0(p["AttributeDefinitions"])
	if len(ks) != 1 || dig(ks[0], "AttributeName") != key || dig(ks[0], "KeyType") != "HASH" {
		t.Errorf("key schema %v, want %s HASH", ks, key)
	}
	if len(ad) != 1 || dig(ad[0], "AttributeName") != key || dig(ad[0], "AttributeType") != "S" {
		t.Errorf("attributes %v, want %s S", ad, key)
	}
}

func containsPrefix(list []any, prefix string) bool {
	for _, v := range list {
		if s, ok := v.(string); ok && strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// checkLogLevel: the function logs JSON, slog's level (SAMLFLEX_LOG_LEVEL)
// and Lambda's application log level come from the same logLevel, so
// Lambda does not drop the lines slog writes.
func checkLogLevel(t *testing.T, name string, fn map[string]any, slogLevel, lambdaLevel string) {
	t.Helper()
	if got := dig(fn, "LoggingConfig", "LogFormat"); got != "JSON" {
		t.Errorf("%s: log format %v, want JSON", name, got)
	}
	if got := dig(fn, "LoggingConfig", "ApplicationLogLevel"); got != lambdaLevel {
		t.Errorf("%s: application log level %v, want %s", name, got, lambdaLevel)
	}
	if got := dig(fn, "Environment", "Variables", "SAMLFLEX_LOG_LEVEL"); got != slogLevel {
		t.Errorf("%s: SAMLFLEX_LOG_LEVEL %v, want %s", name, got, slogLevel)
	}
}
