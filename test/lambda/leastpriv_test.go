package lambda_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/samlflex/samlflex/internal/flex/flextest"
	"github.com/samlflex/samlflex/internal/flexconn"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
	"github.com/samlflex/samlflex/test/e2e/samlidp"
)

const (
	// flexDeliveryURL receives the Flex token after a Flex-connected login.
	flexDeliveryURL = "https://flex-app.example.com/"
	// noSecretSID is a Flex-connected account without its API key secret.
	noSecretSID  = "ACdeadbeefdeadbeefdeadbeefdeadbeef"
	noSecretPath = "/v1/Accounts/" + noSecretSID + "/saml2"
)

// TestLeastPrivilege proves the stack's IAM grants from what the functions
// do. Each function runs under the RIE with the environment the
// synthesized template gives it (infra/testdata/functions.json) and with a
// recording proxy as its AWS endpoint. A scripted run covers what the
// functions do in production: cold starts, the metadata routes, an
// SP-initiated login to a Flex-connected account (login link, IdP, ACS,
// the Flex API key secret, Twilio), its replay, an IdP-initiated
// (unsolicited) response, a full four-step key rotation and the daily
// scan. Every recorded call (action and resource ARN) must be allowed by
// that function's role statements, matched as IAM matches them; a missing
// grant fails the test here rather than a first production login. Grants
// that no call used are logged.
func TestLeastPrivilege(t *testing.T) {
	samlflextest.DynamoDBEndpoint(t)
	rieBinary(t)
	functionBootstrap(t, "acs")
	sf := loadStackFunctions(t)
	st := newStack(t)
	ctx, cancel := context.WithTimeout(t.Context(), setupTimeout)
	defer cancel()
	keys, err := st.smc.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(keysSecret)})
	if err != nil {
		t.Fatal(err)
	}
	keysARN := aws.ToString(keys.ARN)

	// The Flex connection of the login account: Twilio (flextest) and the
	// API key secret under the stack's prefix, as `samlflex account put`
	// stores it.
	twilio := flextest.New(t, flextest.Options{})
	flexPrefix := sf.Functions["acs"].Environment["SAMLFLEX_FLEX_SECRET_PREFIX"]
	if flexPrefix == "" {
		t.Fatal("acs has no SAMLFLEX_FLEX_SECRET_PREFIX in functions.json")
	}
	if err := flexconn.NewSMSecrets(st.smc, flexPrefix, 0, nil).PutAPISecret(ctx, loginSID, flextest.APISecret); err != nil {
		t.Fatal(err)
	}
	idp := startFlexLoginIdP(t, st, loginSID, twilio.URL)
	// A second Flex-connected account whose secret was never stored: acs
	// looks it up by name and must learn that it does not exist (a clear
	// flex_credentials_invalid), not be denied (which would read as
	// Secrets Manager being unavailable).
	noSecretIdP := startFlexLoginIdP(t, st, noSecretSID, twilio.URL)

	recorders := map[string]*callRecorder{}
	vars := map[string]map[string]string{}
	fns := map[string]*function{}
	for _, name := range []string{"acs", "metadata", "rotate"} {
		rec := newCallRecorder(t, st.ddbEndpoint, st.sm, st.smc)
		recorders[name] = rec
		// The key secret by its ARN, as the stack names it.
		vars[name] = st.vars(name, keysARN)
		env := st.env(t, name, keysARN)
		env["SAMLFLEX_DYNAMODB_ENDPOINT"], env["SAMLFLEX_SECRETSMANAGER_ENDPOINT"] = rec.url, rec.url
		fns[name] = startFunction(t, name, functionBootstrap(t, name), env)
	}
	acs, meta, rot := fns["acs"], fns["metadata"], fns["rotate"]

	t.Run("scripted run", func(t *testing.T) {
		runHTTPCases(t, meta, []httpCase{
			{name: "metadata (cold start)", event: getEvent(loginPath+"/metadata", ""), wantStatus: http.StatusOK},
			{name: "JWKS", event: getEvent("/.well-known/jwks.json", ""), wantStatus: http.StatusOK},
			{name: "health", event: getEvent("/healthz", ""), wantStatus: http.StatusOK},
		})
		// SP-initiated, Flex-connected: the cold start is the login link.
		a := startLogin(t, acs, idp, "")
		r := finishLogin(t, acs, idp, a, http.StatusSeeOther, "")
		if loc := r.header("Location"); !strings.HasPrefix(loc, flexDeliveryURL+"#token=") || len(twilio.Tokens()) != 1 {
			t.Fatalf("Flex login: Location %q, %d Flex tokens; want the delivery URL with Twilio's token", loc, len(twilio.Tokens()))
		}
		finishLogin(t, acs, idp, a, http.StatusConflict, string(samlflex.CodeAssertionReplayed))
		a = startLoginAt(t, acs, noSecretIdP, noSecretPath, "")
		finishLoginAt(t, acs, noSecretIdP, noSecretPath, a, http.StatusBadGateway, string(samlflex.CodeFlexCredentialsInvalid))
		// IdP-initiated: the golden response of account sid (allowed
		// unsolicited). It has expired, so it is refused after the
		// account read and the signature check.
		form := url.Values{"SAMLResponse": {strings.TrimSpace(samlflextest.Golden(t, "unsolicited.b64"))}}.Encode()
		runHTTPCases(t, acs, []httpCase{{name: "IdP-initiated response", event: formEvent(accountPath, form),
			wantStatus: http.StatusForbidden, wantCode: "assertion_expired"}})

		seed(t, st, rot, keysSecret) // a full rotation: the four steps
		rot.waitOutput(t, "sp_key_rotated", func(l string) bool { return strings.Contains(l, `"msg":"sp_key_rotated"`) })
		if status, body := rot.invoke(t, []byte(`{"action":"scan_idp_certificates"}`)); status != http.StatusOK || strings.TrimSpace(string(body)) != "null" {
			t.Fatalf("scan: %d %s", status, body)
		}
		rot.waitOutput(t, "SPKeySetAgeDays", func(l string) bool { return strings.Contains(l, `"SPKeySetAgeDays"`) })
		// A rotation step that fails (its token names no version), as
		// when a rotation breaks: it must publish the failure metric.
		ev := `{"SecretId":"` + keysARN + `","ClientRequestToken":"00000000-0000-4000-8000-00000000dead","Step":"createSecret"}`
		if _, body := rot.invoke(t, []byte(ev)); !strings.Contains(string(body), "errorMessage") {
			t.Fatalf("a rotation step with an unknown token succeeded: %s", body)
		}
		// The invoke can return before the RIE has copied the function's
		// last lines to its stdout; wait for the metric, as above.
		rot.waitOutput(t, "SPKeyRotationFailures", func(l string) bool { return strings.Contains(l, `"SPKeyRotationFailures"`) })
	})
	t.Run("alarm metrics are published under the alarms' names", func(t *testing.T) {
		checkAlarmMetrics(t, rot, sf.AlarmMetrics)
	})
	if t.Failed() {
		return
	}

	for _, name := range []string{"acs", "metadata", "rotate"} {
		t.Run(name, func(t *testing.T) {
			calls := recorders[name].recorded()
			if len(calls) == 0 {
				t.Fatal("no AWS calls recorded: the function does not use the recorder")
			}
			gs := grants(t, sf.Functions[name].Statements, vars[name])
			denied, unused := checkCalls(calls, gs)
			for _, c := range calls {
				t.Logf("called %s", c)
			}
			for _, c := range denied {
				t.Errorf("%s calls %s, which its role does not allow (infra/iam.go)", name, c)
			}
			for _, g := range unused {
				t.Logf("granted but never used in the run: %s on %s (%s)", g.action, g.resource, g.sid)
			}
		})
	}

	// The check catches a missing grant: without ReadAssertionIds, acs's
	// read-back after the replay's failed conditional write is denied.
	t.Run("control: a removed grant is reported", func(t *testing.T) {
		var sts []policyStatement
		for _, s := range sf.Functions["acs"].Statements {
			if s.Sid != "ReadAssertionIds" {
				sts = append(sts, s)
			}
		}
		denied, _ := checkCalls(recorders["acs"].recorded(), grants(t, sts, vars["acs"]))
		want := awsCall{"dynamodb:GetItem", tableARN(st.tables.Assertions)}
		if len(denied) != 1 || denied[0] != want {
			t.Errorf("without ReadAssertionIds: denied %v, want only %s", denied, want)
		}
	})
}

// startFlexLoginIdP is startLoginIdP for account sid, with a Flex
// connection whose Twilio API is twilioURL.
func startFlexLoginIdP(t *testing.T, st *stack, sid, twilioURL string) *samlidp.IdP {
	t.Helper()
	path := "/v1/Accounts/" + sid + "/saml2"
	idp := samlidp.Start(t, samlidp.Options{SPEntityID: baseURL + path + "/metadata", SPACSURL: baseURL + path,
		Users: []samlidp.User{loginUser}, Host: "127.0.0.1"})
	off := false
	acct := samlflex.Account{AccountSID: sid, FriendlyName: "samlify test IdP", IdPCertificates: []string{idp.CertPEM},
		IdPIssuer: idp.Issuer, IdPSSOURL: idp.SSOURL, StartURL: startURL, AllowIdPInitiated: &off,
		Flex: &samlflex.FlexConnection{InstanceSID: flextest.InstanceSID, APIKeySID: flextest.APIKeySID,
			DeliveryURL: flexDeliveryURL, APIBaseURL: twilioURL}}
	if err := acct.Validate(time.Now()); err != nil {
		t.Fatal(err)
	}
	st.putAccount(t, acct)
	return idp
}

// checkAlarmMetrics: every metric an alarm of the stack watches appears in
// fn's output as an EMF document in namespace samlflex, without
// dimensions, under exactly the alarm's name. A renamed metric on either
// side would leave its alarm silent forever.
func checkAlarmMetrics(t *testing.T, fn *function, alarmMetrics []string) {
	t.Helper()
	if len(alarmMetrics) == 0 {
		t.Fatal("functions.json lists no alarm metrics")
	}
	published := map[string]bool{}
	for _, l := range fn.stdout.Lines() {
		var doc struct {
			AWS *struct {
				CloudWatchMetrics []struct {
					Namespace  string
					Dimensions [][]string
					Metrics    []struct{ Name string }
				}
			} `json:"_aws"`
		}
		if json.Unmarshal([]byte(l), &doc) != nil || doc.AWS == nil {
			continue
		}
		for _, cwm := range doc.AWS.CloudWatchMetrics {
			if cwm.Namespace != "samlflex" || len(cwm.Dimensions) != 1 || len(cwm.Dimensions[0]) != 0 {
				continue
			}
			for _, m := range cwm.Metrics {
				published[m.Name] = true
			}
		}
	}
	for _, name := range alarmMetrics {
		if !published[name] {
			t.Errorf("the stack alarms on samlflex/%s, which %s never published without dimensions (published: %v)", name, fn.name, published)
		}
	}
}
