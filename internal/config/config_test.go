package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"
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
		c.AccountCacheTTL != 30*time.Second || c.KeysCacheTTL != 5*time.Minute || c.CertWarnDays != 30 {
		t.Fatalf("%+v", c)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{EnvBaseURL: "sso.example.com", EnvLogLevel: "loud", EnvAccountCacheTTL: "soon",
		EnvCertWarnDays: "0", EnvDynamoDBEndpoint: "localhost:8000"}), Need{BaseURL: true, Assertions: true})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{EnvBaseURL, EnvAccountsTable, EnvAssertionsTable, EnvKeysSecretID, EnvLogLevel, EnvAccountCacheTTL, EnvCertWarnDays, EnvDynamoDBEndpoint} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
	// The rotate function needs no base URL nor assertions table.
	if _, err := Load(env(map[string]string{EnvAccountsTable: "a", EnvKeysSecretID: "k"}), Need{}); err != nil {
		t.Fatal(err)
	}
}
