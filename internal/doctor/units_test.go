package doctor

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

func TestSkew(t *testing.T) {
	t.Parallel()
	sent := time.Date(2026, 12, 4, 12, 0, 0, 500e6, time.UTC)
	arrived := sent.Add(400 * time.Millisecond)
	tests := []struct {
		name       string
		server     time.Time
		resolution time.Duration
		want       time.Duration
	}{
		{"inside the round trip", sent.Add(200 * time.Millisecond), time.Millisecond, 0},
		// An HTTP Date of 12:00:00 covers 12:00:00.000-12:00:00.999.
		{"truncated Date before sent", sent.Truncate(time.Second), time.Second, 0},
		{"behind", sent.Add(-time.Minute), time.Millisecond, -time.Minute + time.Millisecond},
		{"Date behind", sent.Truncate(time.Second).Add(-time.Minute), time.Second, -time.Minute + 500*time.Millisecond},
		{"ahead", arrived.Add(2 * time.Minute), time.Millisecond, 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := skew(tt.server, sent, arrived, tt.resolution); got != tt.want {
				t.Errorf("skew = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSkewFinding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		skew   time.Duration
		status Status
		seen   string
	}{
		{0, StatusOK, "agrees"},
		{29 * time.Second, StatusOK, "29s ahead of"},
		{-31 * time.Second, StatusWarn, "31s behind"},
		{3 * time.Minute, StatusWarn, "3m0s ahead of"},
		{3*time.Minute + time.Second, StatusFail, "3m1s ahead of"},
		{-time.Hour, StatusFail, "1h0m0s behind"},
	}
	for _, tt := range tests {
		t.Run(tt.skew.String(), func(t *testing.T) {
			t.Parallel()
			f := skewFinding("clock.saml", "the clock", tt.skew)
			if f.Status != tt.status || !strings.Contains(f.Seen, tt.seen) {
				t.Errorf("got %s %q, want %s containing %q", f.Status, f.Seen, tt.status, tt.seen)
			}
			if f.Status != StatusOK && !strings.Contains(f.Fix, "assertion_expired") {
				t.Errorf("fix %q does not explain the SAML time checks", f.Fix)
			}
		})
	}
}

func deflate(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

func TestDecodeAuthnRequest(t *testing.T) {
	t.Parallel()
	const ok = `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_a" Version="2.0"/>`
	tests := []struct {
		name, raw, wantErr string
	}{
		{"well-formed", deflate(t, ok), ""},
		{"not base64", "%%%", "not base64"},
		{"not deflate", base64.StdEncoding.EncodeToString([]byte(ok)), "does not inflate"},
		{"not XML", deflate(t, "hello"), "not XML"},
		// A decompression bomb: 1 MiB of spaces deflates to about 1 KiB.
		{"too large", deflate(t, ok+strings.Repeat(" ", 1<<20)), "over 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := decodeAuthnRequest(tt.raw)
			if tt.wantErr == "" {
				if err != nil || req.ID != "_a" {
					t.Fatalf("got %+v, %v", req, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestCheckAuthnRequest(t *testing.T) {
	t.Parallel()
	const idp = "https://idp.test/sso"
	base := "https://sso.test/v1/Accounts/" + testSID + "/saml2"
	req := func(attrs, issuer string) string {
		return `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ` +
			attrs + `><saml:Issuer>` + issuer + `</saml:Issuer></samlp:AuthnRequest>`
	}
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	good := `ID="_x" Version="2.0" IssueInstant="2026-12-04T12:00:00.000Z" Destination="` + idp + `" AssertionConsumerServiceURL="` + base + `"`
	tests := []struct {
		name, xml, check, seen string
		status                 Status
	}{
		{"well-formed", req(good, base+"/metadata"), "login.authn_request", "AuthnRequest _x, unsigned", StatusOK},
		{"wrong version", req(strings.Replace(good, `"2.0"`, `"1.1"`, 1), base+"/metadata"), "login.authn_request", `Version "1.1"`, StatusFail},
		{"ID starts with a digit", req(strings.Replace(good, `"_x"`, `"1x"`, 1), base+"/metadata"), "login.authn_request", "not an xs:ID", StatusFail},
		{"Destination elsewhere", req(strings.Replace(good, idp, "https://evil.test/", 1), base+"/metadata"), "login.authn_request", "Destination", StatusFail},
		{"not an AuthnRequest", `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" Version="2.0"/>`,
			"login.authn_request", "root element", StatusFail},
		{"wrong ACS", req(strings.Replace(good, base+`"`, base+`x"`, 1), base+"/metadata"), "login.acs_url", base + "x", StatusFail},
		{"wrong issuer", req(good, "https://other.test"), "login.issuer", "https://other.test", StatusFail},
		{"issuer outside the assertion namespace", strings.ReplaceAll(req(good, base+"/metadata"), "saml:Issuer", "Issuer"),
			"login.issuer", "no saml:Issuer", StatusFail},
		{"IssueInstant unparsable", req(strings.Replace(good, "2026-12-04T12:00:00.000Z", "yesterday", 1), base+"/metadata"),
			"clock.saml", "does not parse", StatusFail},
		{"IssueInstant an hour old", req(strings.Replace(good, "12:00:00.000Z", "11:00:00.000Z", 1), base+"/metadata"),
			"clock.saml", "1h0m0s behind", StatusFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep, err := newDoctor(Config{BaseURL: "https://sso.test", AccountSID: testSID, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			target := mustURL(t, idp+"?SAMLRequest="+url.QueryEscape(deflate(t, tt.xml)))
			rep.checkAuthnRequest(target, &answer{sent: now, arrived: now})
			want(t, rep.rep, tt.check, tt.status, tt.seen)
		})
	}
}

// fakeSecrets answers DescribeSecret with out or err.
type fakeSecrets struct {
	out *secretsmanager.DescribeSecretOutput
	err error
	id  string
}

func (f *fakeSecrets) DescribeSecret(_ context.Context, in *secretsmanager.DescribeSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	f.id = aws.ToString(in.SecretId)
	return f.out, f.err
}

func TestCheckRotation(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	desc := func(enabled bool, last time.Duration, period int64, stages map[string][]string) *secretsmanager.DescribeSecretOutput {
		o := &secretsmanager.DescribeSecretOutput{Name: aws.String("samlflex-keys"), RotationEnabled: aws.Bool(enabled),
			RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(period)}, VersionIdsToStages: stages}
		if last >= 0 {
			o.LastRotatedDate = aws.Time(now.Add(-last))
		}
		return o
	}
	current := map[string][]string{"v1": {"AWSCURRENT"}, "v0": {"AWSPREVIOUS"}}
	tests := []struct {
		name    string
		secrets *fakeSecrets
		status  Status
		seen    string
	}{
		{"rotating on time", &fakeSecrets{out: desc(true, 10*day, 30, current)}, StatusOK, "last rotated 2026-11-24T12:00:00Z (10 days ago), every 30 days"},
		{"within the grace", &fakeSecrets{out: desc(true, 31*day, 30, current)}, StatusOK, "31 days ago"},
		{"overdue", &fakeSecrets{out: desc(true, 33*day, 30, current)}, StatusFail, "33 days ago"},
		{"disabled", &fakeSecrets{out: desc(false, 10*day, 30, current)}, StatusFail, "rotation is disabled"},
		{"never rotated", &fakeSecrets{out: desc(true, -1, 30, nil)}, StatusFail, "never rotated"},
		{"stuck pending", &fakeSecrets{out: desc(true, 2*day, 30, map[string][]string{"v1": {"AWSCURRENT"}, "v2": {"AWSPENDING"}})}, StatusWarn, "AWSPENDING"},
		{"no rotation rules", &fakeSecrets{out: &secretsmanager.DescribeSecretOutput{Name: aws.String("k"), RotationEnabled: aws.Bool(true),
			LastRotatedDate: aws.Time(now.Add(-day))}}, StatusOK, "1 day ago), no rotation rules"},
		{"schedule expression", &fakeSecrets{out: &secretsmanager.DescribeSecretOutput{Name: aws.String("k"), RotationEnabled: aws.Bool(true),
			LastRotatedDate: aws.Time(now.Add(-day)), RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(10 days)")}}}, StatusOK, "schedule rate(10 days)"},
		{"access denied", &fakeSecrets{err: errors.New("AccessDeniedException: not authorized")}, StatusFail, "DescribeSecret failed: AccessDeniedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := newDoctor(Config{BaseURL: "https://sso.test", Secrets: tt.secrets, KeysSecretID: "arn:aws:secretsmanager:us-east-1:1:secret:k", Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			d.checkRotation(t.Context())
			want(t, d.rep, "rotation", tt.status, tt.seen)
			if tt.secrets.id != "arn:aws:secretsmanager:us-east-1:1:secret:k" {
				t.Errorf("DescribeSecret of %q", tt.secrets.id)
			}
		})
	}
}

func TestCookieKid(t *testing.T) {
	t.Parallel()
	enc := base64.RawURLEncoding.EncodeToString
	tests := []struct{ value, want string }{
		{enc([]byte(`{"r":"_x","k":"kid1"}`)) + ".mac", "kid1"},
		{enc([]byte(`{"r":"_x"}`)) + ".mac", ""},
		{"no-dot", ""},
		{"!!!.mac", ""},
		{enc([]byte(`not json`)) + ".mac", ""},
	}
	for _, tt := range tests {
		if got := cookieKid(tt.value); got != tt.want {
			t.Errorf("cookieKid(%q) = %q, want %q", tt.value, got, tt.want)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
