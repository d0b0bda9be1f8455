// Package config reads the Lambda functions' settings from the environment
// into a typed Config, reporting every problem at once (a deploy with three
// wrong variables should fail once, not three times). It must not import an
// AWS SDK: it only reads strings.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Environment variables. The Lambda functions read these (Load); the CDK
// stack sets them (a test checks both lists agree), and the CLI uses the
// same names for the same settings.
const (
	EnvBaseURL           = "SAMLFLEX_BASE_URL"
	EnvAccountsTable     = "SAMLFLEX_ACCOUNTS_TABLE"
	EnvAssertionsTable   = "SAMLFLEX_ASSERTIONS_TABLE"
	EnvKeysSecretID      = "SAMLFLEX_KEYS_SECRET_ID"
	EnvLogLevel          = "SAMLFLEX_LOG_LEVEL"
	EnvAccountCacheTTL   = "SAMLFLEX_ACCOUNT_CACHE_TTL"
	EnvKeysCacheTTL      = "SAMLFLEX_KEYS_CACHE_TTL"
	EnvCertWarnDays      = "SAMLFLEX_CERT_WARN_DAYS"
	EnvDynamoDBEndpoint  = "SAMLFLEX_DYNAMODB_ENDPOINT"
	EnvSecretsEndpoint   = "SAMLFLEX_SECRETSMANAGER_ENDPOINT"
	EnvFlexSecretsPrefix = "SAMLFLEX_FLEX_SECRET_PREFIX"
	EnvKeyRotationDays   = "SAMLFLEX_KEY_ROTATION_DAYS"
	EnvSessionTokenAlg   = "SAMLFLEX_SESSION_TOKEN_ALG"
)

// DefaultCertWarnDays is CertWarnDays when SAMLFLEX_CERT_WARN_DAYS is not
// set. The stack sets the variable from the same constant as its
// IdpCertificateExpiry alarm threshold, so the log warning and the alarm
// start on the same day.
const DefaultCertWarnDays = 30

// MaxKeyRotationDays is the longest rotation period Secrets Manager
// accepts (and the stack's keyRotationDays allows).
const MaxKeyRotationDays = 1000

// Environment variables of the CLI only (serve, dev, account): no Lambda
// function reads them.
const (
	// EnvData is serve's and account's data directory (embedded store, keys).
	EnvData = "SAMLFLEX_DATA"
	// EnvDevData is dev's data directory, never shared with serve's.
	EnvDevData = "SAMLFLEX_DEV_DATA"
)

// ParseLogLevel reads a SAMLFLEX_LOG_LEVEL value: debug, info, warn or
// error, any case; empty is info. It is the one parser for the functions
// and the CLI's servers.
func ParseLogLevel(v string) (slog.Level, error) {
	switch lvl := strings.ToLower(strings.TrimSpace(v)); lvl {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	default:
		return slog.LevelInfo, fmt.Errorf("%s=%q: use debug, info, warn or error", EnvLogLevel, lvl)
	}
}

// Config is what a function needs.
type Config struct {
	BaseURL         string
	AccountsTable   string
	AssertionsTable string
	KeysSecretID    string
	LogLevel        slog.Level
	AccountCacheTTL time.Duration
	KeysCacheTTL    time.Duration
	CertWarnDays    int
	// KeyRotationDays is the SP key set's rotation period (rotate only;
	// 0: not set). The rotate function makes certificates that outlive
	// the rotations they take part in (awsapp.CertValidity) and publishes
	// the age of the current key set, which an alarm compares with it.
	KeyRotationDays int
	// Endpoint overrides, for running a function against local emulators
	// (dynalite, the Secrets Manager stand-in); empty in AWS.
	DynamoDBEndpoint       string
	SecretsManagerEndpoint string
	// FlexSecretPrefix names the per-account Twilio API key secrets in
	// Secrets Manager (acs only; empty: no Flex connector).
	FlexSecretPrefix string
	// SessionTokenAlg signs samlflex's session tokens (acs only): ES256
	// (the default, with the key set's P-256 token keys) or RS256.
	SessionTokenAlg session.Alg
}

// Need says which settings a function requires.
type Need struct {
	BaseURL, Assertions bool
}

// Load reads the settings with getenv (os.Getenv in main, a map in tests).
func Load(getenv func(string) string, need Need) (Config, error) {
	var errs []error
	req := func(name string) string {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required", name))
		}
		return v
	}
	dur := func(name string, def time.Duration) time.Duration {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s=%q is not a duration like 60s", name, v))
			return def
		}
		return d
	}
	c := Config{
		AccountsTable:          req(EnvAccountsTable),
		KeysSecretID:           req(EnvKeysSecretID),
		AccountCacheTTL:        dur(EnvAccountCacheTTL, 60*time.Second),
		KeysCacheTTL:           dur(EnvKeysCacheTTL, 5*time.Minute),
		CertWarnDays:           DefaultCertWarnDays,
		DynamoDBEndpoint:       strings.TrimSpace(getenv(EnvDynamoDBEndpoint)),
		SecretsManagerEndpoint: strings.TrimSpace(getenv(EnvSecretsEndpoint)),
		FlexSecretPrefix:       strings.TrimSpace(getenv(EnvFlexSecretsPrefix)),
	}
	if need.BaseURL {
		if v := req(EnvBaseURL); v != "" {
			if b, err := samlflex.ParseBaseURL(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q is not an absolute https:// URL", EnvBaseURL, v))
			} else {
				c.BaseURL = b.String()
			}
		}
	}
	if need.Assertions {
		c.AssertionsTable = req(EnvAssertionsTable)
	}
	if lvl, err := ParseLogLevel(getenv(EnvLogLevel)); err != nil {
		errs = append(errs, err)
	} else {
		c.LogLevel = lvl
	}
	if v := strings.TrimSpace(getenv(EnvCertWarnDays)); v != "" {
		var d int
		if _, err := fmt.Sscanf(v, "%d", &d); err != nil || d < 1 || d > 365 {
			errs = append(errs, fmt.Errorf("%s=%q: a number of days from 1 to 365", EnvCertWarnDays, v))
		} else {
			c.CertWarnDays = d
		}
	}
	if alg, err := session.ParseAlg(getenv(EnvSessionTokenAlg)); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvSessionTokenAlg, err))
	} else {
		c.SessionTokenAlg = alg
	}
	if v := strings.TrimSpace(getenv(EnvKeyRotationDays)); v != "" {
		var d int
		if _, err := fmt.Sscanf(v, "%d", &d); err != nil || d < 1 || d > MaxKeyRotationDays || fmt.Sprint(d) != v {
			errs = append(errs, fmt.Errorf("%s=%q: a number of days from 1 to %d", EnvKeyRotationDays, v, MaxKeyRotationDays))
		} else {
			c.KeyRotationDays = d
		}
	}
	for name, v := range map[string]string{EnvDynamoDBEndpoint: c.DynamoDBEndpoint, EnvSecretsEndpoint: c.SecretsManagerEndpoint} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			errs = append(errs, fmt.Errorf("%s=%q is not an http(s) URL", name, v))
		}
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return c, nil
}
