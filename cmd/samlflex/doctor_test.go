package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/samlflex/samlflex/internal/awsfake/smfake"
	"github.com/samlflex/samlflex/internal/awsfake/testretry"
	"github.com/samlflex/samlflex/internal/doctor"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/keys/filekeys"
)

const doctorIdP = "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect"

// doctorCLI runs `samlflex doctor args...` in-process with the local clock
// at now() (a skewed clock stands for a skewed server: only the
// difference is measured).
func doctorCLI(t *testing.T, now func() time.Time, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }, now: now}
	code := a.run(t.Context(), append([]string{"doctor"}, args...))
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func decodeReport(t *testing.T, r result) *doctor.Report {
	t.Helper()
	var rep doctor.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("not JSON (exit %d): %v\n%s\nstderr:\n%s", r.code, err, r.stdout, r.stderr)
	}
	return &rep
}

// serveAccount starts `samlflex serve` in-process on 127.0.0.1:0 with
// account sidA, after prepare(dataDir) (nil: nothing), and returns what it
// serves.
func serveAccount(t *testing.T, prepare func(data string), serveArgs ...string) serving {
	t.Helper()
	data := t.TempDir()
	cert, _ := testCert(t, t.TempDir(), "idp.crt")
	mustCLI(t, exitOK, nil, fullPut(data, sidA, cert)...)
	if prepare != nil {
		prepare(data)
	}
	s, _ := startServer(t, nil, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data}, serveArgs...)...)
	return s
}

// expiredKeys writes a key set whose only certificate expired a year ago.
func expiredKeys(t *testing.T) func(string) {
	return func(data string) {
		p, err := keys.Generate(keys.RSA2048, time.Now().Add(-3*365*24*time.Hour), 2*365*24*time.Hour, "samlflex SP (expired)", rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		b, err := keys.MarshalSet(&keys.Set{Current: p})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, filekeys.FileName), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// proxied puts a rewriting reverse proxy in front of serve, as a CDN or
// load balancer would be, and makes it the public base URL. edit changes
// serve's answers.
func proxied(t *testing.T, prepare func(string), edit func(*http.Response)) string {
	t.Helper()
	var target *url.URL
	proxy := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp := httputil.NewSingleHostReverseProxy(target)
		rp.ModifyResponse = func(resp *http.Response) error { edit(resp); return nil }
		rp.ServeHTTP(w, r)
	}))
	proxy.Start()
	t.Cleanup(proxy.Close)
	s := serveAccount(t, prepare, "--base-url", proxy.URL)
	target, _ = url.Parse("http://" + s.Addr)
	return proxy.URL
}

// TestDoctorServe runs `samlflex doctor` against `samlflex serve`,
// healthy and broken on purpose.
func TestDoctorServe(t *testing.T) {
	t.Parallel()
	type check struct {
		name   string
		status doctor.Status
		seen   string
	}
	tests := []struct {
		name string
		// base returns the base URL doctor checks.
		base     func(t *testing.T) string
		now      func() time.Time
		args     []string
		wantCode int
		want     []check
	}{
		{
			name: "healthy", wantCode: exitOK, args: []string{"--idp-sso-url", doctorIdP},
			base: func(t *testing.T) string { return serveAccount(t, nil).BaseURL },
			want: []check{{"tls", doctor.StatusOK, "loopback"}, {"healthz", doctor.StatusOK, "200"},
				{"clock.http_date", doctor.StatusOK, "agrees"}, {"metadata.entity_id", doctor.StatusOK, "/v1/Accounts/" + sidA + "/saml2/metadata"},
				{"metadata.certificate[0]", doctor.StatusOK, "samlflex SP (local)"}, {"login.idp", doctor.StatusOK, doctorIdP},
				{"login.authn_request", doctor.StatusOK, "AuthnRequest _samlflex_"}, {"login.acs_url", doctor.StatusOK, sidA},
				{"login.issuer", doctor.StatusOK, sidA}, {"clock.saml", doctor.StatusOK, "agrees"},
				{"jwks", doctor.StatusOK, "4 keys"}, {"jwks.current", doctor.StatusOK, "the current kid"}},
		},
		{
			// serve was told another public URL than the one in use: the
			// IdP would refuse (audience) or post elsewhere.
			name: "serve's base URL is not the one in use", wantCode: exitFailure,
			base: func(t *testing.T) string {
				return "http://" + serveAccount(t, nil, "--base-url", "https://sso.example.com").Addr
			},
			want: []check{{"metadata.entity_id", doctor.StatusFail, "https://sso.example.com/v1/Accounts/"},
				{"login.acs_url", doctor.StatusFail, "https://sso.example.com/"}, {"login.issuer", doctor.StatusFail, "https://sso.example.com/"}},
		},
		{
			name: "server clock 5 minutes behind", wantCode: exitFailure,
			now:  func() time.Time { return time.Now().Add(5 * time.Minute) },
			base: func(t *testing.T) string { return serveAccount(t, nil).BaseURL },
			want: []check{{"clock.saml", doctor.StatusFail, "5m0s behind"}, {"clock.http_date", doctor.StatusFail, "behind"}},
		},
		{
			name: "server clock 40 seconds ahead", wantCode: exitOK,
			now:  func() time.Time { return time.Now().Add(-40 * time.Second) },
			base: func(t *testing.T) string { return serveAccount(t, nil).BaseURL },
			want: []check{{"clock.saml", doctor.StatusWarn, "ahead of"}},
		},
		{
			name: "expired SP certificate", wantCode: exitFailure,
			base: func(t *testing.T) string { return serveAccount(t, expiredKeys(t)).BaseURL },
			want: []check{{"metadata.certificate[0]", doctor.StatusFail, "expired 365 days ago"}, {"metadata.valid_until", doctor.StatusFail, "365 days ago"}},
		},
		{
			name: "proxy strips cookie attributes", wantCode: exitFailure,
			base: func(t *testing.T) string {
				return proxied(t, nil, func(r *http.Response) {
					for i, c := range r.Header.Values("Set-Cookie") {
						c = strings.ReplaceAll(c, "; HttpOnly", "")
						c = strings.ReplaceAll(c, "; SameSite=None", "")
						r.Header["Set-Cookie"][i] = c
					}
				})
			},
			want: []check{{"healthz", doctor.StatusOK, "200"}, {"metadata.entity_id", doctor.StatusOK, sidA}, {"login.cookie", doctor.StatusFail, "samlflex_login"}},
		},
		{
			name: "health failing", wantCode: exitFailure,
			base: func(t *testing.T) string {
				return proxied(t, nil, func(r *http.Response) {
					if r.Request.URL.Path == "/healthz" {
						r.StatusCode = http.StatusBadGateway
					}
				})
			},
			want: []check{{"healthz", doctor.StatusFail, "HTTP 502"}, {"metadata", doctor.StatusOK, "200"}},
		},
		{
			name: "unknown account", wantCode: exitFailure, args: []string{"--account-sid", sidB},
			base: func(t *testing.T) string { return serveAccount(t, nil).BaseURL },
			want: []check{{"metadata", doctor.StatusFail, "unknown_account"}, {"login", doctor.StatusFail, "unknown_account"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := tt.now
			if now == nil {
				now = time.Now
			}
			args := append([]string{"--base-url", tt.base(t), "--account-sid", sidA, "--output", "json"}, tt.args...)
			r := doctorCLI(t, now, nil, args...)
			rep := decodeReport(t, r)
			if r.code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%s", r.code, tt.wantCode, r.stdout)
			}
			for _, c := range tt.want {
				f, ok := rep.Find(c.name)
				if !ok || f.Status != c.status || !strings.Contains(f.Seen, c.seen) {
					t.Errorf("%s: %+v, want %s containing %q\n%s", c.name, f, c.status, c.seen, r.stdout)
				}
			}
		})
	}
}

// TestDoctorText: the text report lists every finding and explains the
// ones that are not ok.
func TestDoctorText(t *testing.T) {
	t.Parallel()
	s := serveAccount(t, nil, "--base-url", "https://sso.example.com")
	r := doctorCLI(t, time.Now, nil, "--base-url", "http://"+s.Addr, "--account-sid", sidA)
	if r.code != exitFailure {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, w := range []string{
		"samlflex doctor http://" + s.Addr + " (account " + sidA + ")",
		"OK    healthz",
		"FAIL  metadata.entity_id         https://sso.example.com/v1/Accounts/" + sidA + "/saml2/metadata\n",
		"expected: http://" + s.Addr + "/v1/Accounts/",
		"fix: the server derives its URLs from base URL https://sso.example.com, not http://" + s.Addr,
		"SKIP  rotation", "SKIP  alarm_topic",
		" fail, 2 skipped\n",
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
		}
	}
}

// TestDoctorRotation: --secret-id reads the key secret through the
// Secrets Manager API (here the stand-in smfake).
func TestDoctorRotation(t *testing.T) {
	t.Parallel()
	sm := smfake.New(t)
	c := secretsmanager.New(secretsmanager.Options{Region: smfake.Region, BaseEndpoint: aws.String(sm.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("x", "x", ""), Retryer: testretry.OneAttempt()})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("samlflex-keys"), SecretString: aws.String("{}")}); err != nil {
		t.Fatal(err)
	}
	s := serveAccount(t, nil)
	tests := []struct {
		name, secret, seen string
	}{
		{"rotation off", "samlflex-keys", "rotation is disabled on samlflex-keys"},
		{"no such secret", "nope", "DescribeSecret failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := doctorCLI(t, time.Now, nil, "--base-url", s.BaseURL, "--output", "json",
				"--secret-id", tt.secret, "--secrets-manager-endpoint", sm.URL())
			rep := decodeReport(t, r)
			f, _ := rep.Find("rotation")
			if r.code != exitFailure || f.Status != doctor.StatusFail || !strings.Contains(f.Seen, tt.seen) {
				t.Errorf("exit %d, rotation %+v, want fail containing %q", r.code, f, tt.seen)
			}
		})
	}
}

func TestDoctorUsage(t *testing.T) {
	t.Parallel()
	tests := []usageCase{
		{"no base URL", nil, nil, exitUsage, "--base-url is required"},
		{"bad base URL", nil, []string{"--base-url", "sso.example.com"}, exitUsage, "must be an absolute http(s) URL"},
		{"bad account SID", nil, []string{"--base-url", "https://sso.example.com", "--account-sid", "AC12"}, exitUsage, "--account-sid"},
		{"bad output", nil, []string{"--base-url", "https://sso.example.com", "--output", "xml"}, exitUsage, "--output must be text or json"},
		{"endpoint without secret", nil, []string{"--base-url", "https://sso.example.com", "--secrets-manager-endpoint", "http://127.0.0.1:1"}, exitUsage, "needs --secret-id"},
		{"endpoint with stack", nil, []string{"--base-url", "https://sso.example.com", "--secret-id", "k", "--stack", "Samlflex", "--secrets-manager-endpoint", "http://127.0.0.1:1"}, exitUsage, "without --stack"},
		{"stray argument", nil, []string{"--base-url", "https://sso.example.com", "now"}, exitUsage, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := doctorCLI(t, time.Now, tt.env, tt.args...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantErr) || r.stdout != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit %d with %q", r.code, r.stderr, r.stdout, tt.wantCode, tt.wantErr)
			}
		})
	}
	r := mustCLI(t, exitOK, nil, "help", "doctor")
	for _, w := range []string{"Usage:\n  samlflex doctor", "--base-url URL", "--account-sid AC...", "--secret-id ARN", "--stack NAME", "--alarm-topic-arn ARN", "--output FORMAT"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("help lacks %q:\n%s", w, r.stdout)
		}
	}
}
