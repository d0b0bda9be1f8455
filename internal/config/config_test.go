package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/session"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{
		EnvBaseURL: "https://sso.example.com/", EnvAccountsTable: "acc", EnvAssertionsTable: "asr",
		EnvKeysSecretID: "arn:aws:secretsmanager:us-east-1:1:secret:k", EnvLogLevel: "debug", EnvAccountCacheTTL: "30s",
	}), Need{BaseURL: true, Assertions: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != "https://sso.example.com" || c.AssertionsTable != "asr" || c.LogLevel != slog.LevelDebug ||
		c.AccountCacheTTL != 30*time.Second || c.KeysCacheTTL != 5*time.Minute || c.CertWarnDays != DefaultCertWarnDays || c.KeyRotationDays != 0 ||
		c.SessionTokenAlg != session.ES256 {
		t.Fatalf("%+v", c)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{EnvBaseURL: "sso.example.com", EnvLogLevel: "loud", EnvAccountCacheTTL: "soon",
		EnvCertWarnDays: "0", EnvDynamoDBEndpoint: "localhost:8000", EnvKeyRotationDays: "1001",
		EnvSessionTokenAlg: "HS256"}), Need{BaseURL: true, Assertions: true})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{EnvBaseURL, EnvAccountsTable, EnvAssertionsTable, EnvKeysSecretID, EnvLogLevel, EnvAccountCacheTTL, EnvCertWarnDays, EnvDynamoDBEndpoint, EnvKeyRotationDays, EnvSessionTokenAlg} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
	// RS256 is the one other algorithm, in any case.
	if c, err := Load(env(map[string]string{EnvAccountsTable: "a", EnvKeysSecretID: "k", EnvSessionTokenAlg: " rs256 "}), Need{}); err != nil || c.SessionTokenAlg != session.RS256 {
		t.Fatalf("RS256: %v %q", err, c.SessionTokenAlg)
	}
	// The rotate function needs no base URL nor assertions table.
	if _, err := Load(env(map[string]string{EnvAccountsTable: "a", EnvKeysSecretID: "k"}), Need{}); err != nil {
		t.Fatal(err)
	}
}

// TestKeyRotationDays: the rotate function's period, as the stack sets it
// (1 to 1000 days, Secrets Manager's range); anything else is refused
// rather than silently making certificates of the wrong length.
func TestKeyRotationDays(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, value string
		want        int
		wantErr     bool
	}{
		{name: "unset", value: "", want: 0},
		{name: "one day", value: "1", want: 1},
		{name: "default", value: "90", want: 90},
		{name: "longest", value: "1000", want: 1000},
		{name: "zero", value: "0", wantErr: true},
		{name: "negative", value: "-5", wantErr: true},
		{name: "over Secrets Manager's limit", value: "1001", wantErr: true},
		{name: "not a number", value: "ninety", wantErr: true},
		{name: "trailing junk", value: "90d", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(env(map[string]string{EnvAccountsTable: "a", EnvKeysSecretID: "k", EnvKeyRotationDays: tc.value}), Need{})
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), EnvKeyRotationDays) {
					t.Fatalf("%q: got %v, want an error naming %s", tc.value, err, EnvKeyRotationDays)
				}
				return
			}
			if err != nil || c.KeyRotationDays != tc.want {
				t.Fatalf("%q: got %d, %v; want %d", tc.value, c.KeyRotationDays, err, tc.want)
			}
		})
	}
}
