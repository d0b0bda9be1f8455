package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
)

// Defaults. Each one is a Config field an admin can override.
const (
	// DefaultAssetDir is relative to infra/, where cdk runs the app.
	DefaultAssetDir = "../dist/lambda"
	// 50 requests/s with bursts of 100 is 1,500 sign-ins a minute (a
	// sign-in is the login link plus the ACS POST): 10,000 agents signing
	// in over a 15-minute shift change need 22 requests/s on average, so
	// this leaves twice that in headroom (docs/aws.md, "Sizing"). It also
	// caps what a flood of unauthenticated requests can cost: at the cap,
	// 4.3 million requests a day, about $12 a day (API requests, Lambda,
	// and mostly the logs).
	DefaultThrottleRateLimit  = 50
	DefaultThrottleBurstLimit = 100
	DefaultLogRetentionDays   = 90
	DefaultKeyRotationDays    = 90
	DefaultLogLevel           = "info"
)

// Function names: the folders under functions/ and the zip names in the
// asset folder.
const (
	FnACS      = "acs"
	FnMetadata = "metadata"
	FnRotate   = "rotate"
)

// Config is what an admin sets per deployment, as `-c key=value` on the cdk
// command line or under "context" in cdk.json; the context key is given
// with each field. Zero values take the defaults above (see withDefaults).
type Config struct {
	// AssetDir ("assetDir") holds acs.zip, metadata.zip and rotate.zip, each
	// with a single `bootstrap`. When set (-c or cdk.json), the cdk.json app
	// command (scripts/app.sh) does not run scripts/build.sh.
	AssetDir string
	// DomainName ("domainName") is an optional custom domain, e.g.
	// sso.example.com. With it the SP Entity ID and ACS URL survive the HTTP
	// API being replaced (a new execute-api host would break every
	// Salesforce connected app). Needs CertificateArn.
	DomainName string
	// CertificateArn ("certificateArn") is an ACM certificate for
	// DomainName in the stack's region (regional endpoint).
	CertificateArn string
	// DisableExecuteApiEndpoint ("disableExecuteApiEndpoint", true or
	// false) turns off the API's own https://<id>.execute-api... address,
	// so that the custom domain is the only way in (its access log, TLS
	// policy and DNS are then the whole picture). Needs DomainName: without
	// one the API would be unreachable.
	DisableExecuteApiEndpoint bool
	// ThrottleRateLimit ("throttleRateLimit") and ThrottleBurstLimit
	// ("throttleBurstLimit") are the stage's steady requests per second and
	// burst size.
	ThrottleRateLimit  float64
	ThrottleBurstLimit float64
	// LogRetentionDays ("logRetentionDays") applies to the function logs
	// and the API access log; one of CloudWatch's allowed values.
	LogRetentionDays int
	// KeyRotationDays ("keyRotationDays") is how often Secrets Manager
	// rotates the SP key set (1 to 1000).
	KeyRotationDays int
	// LogLevel ("logLevel") becomes SAMLFLEX_LOG_LEVEL: debug, info, warn or
	// error.
	LogLevel string
	// AlarmEmail ("alarmEmail") subscribes an address to a new SNS topic
	// that every alarm notifies. AlarmTopicArn ("alarmTopicArn") uses an
	// existing topic instead. Neither: alarms without notifications.
	AlarmEmail    string
	AlarmTopicArn string
}

// retention maps CloudWatch's allowed retention periods (days) to the CDK
// enum; CloudWatch rejects any other number, so Validate does too.
func retention(days int) (awslogs.RetentionDays, bool) {
	switch days {
	case 1:
		return awslogs.RetentionDays_ONE_DAY, true
	case 3:
		return awslogs.RetentionDays_THREE_DAYS, true
	case 5:
		return awslogs.RetentionDays_FIVE_DAYS, true
	case 7:
		return awslogs.RetentionDays_ONE_WEEK, true
	case 14:
		return awslogs.RetentionDays_TWO_WEEKS, true
	case 30:
		return awslogs.RetentionDays_ONE_MONTH, true
	case 60:
		return awslogs.RetentionDays_TWO_MONTHS, true
	case 90:
		return awslogs.RetentionDays_THREE_MONTHS, true
	case 120:
		return awslogs.RetentionDays_FOUR_MONTHS, true
	case 150:
		return awslogs.RetentionDays_FIVE_MONTHS, true
	case 180:
		return awslogs.RetentionDays_SIX_MONTHS, true
	case 365:
		return awslogs.RetentionDays_ONE_YEAR, true
	case 400:
		return awslogs.RetentionDays_THIRTEEN_MONTHS, true
	case 545:
		return awslogs.RetentionDays_EIGHTEEN_MONTHS, true
	case 731:
		return awslogs.RetentionDays_TWO_YEARS, true
	case 1096:
		return awslogs.RetentionDays_THREE_YEARS, true
	case 1827:
		return awslogs.RetentionDays_FIVE_YEARS, true
	case 2192:
		return awslogs.RetentionDays_SIX_YEARS, true
	case 2557:
		return awslogs.RetentionDays_SEVEN_YEARS, true
	case 2922:
		return awslogs.RetentionDays_EIGHT_YEARS, true
	case 3288:
		return awslogs.RetentionDays_NINE_YEARS, true
	case 3653:
		return awslogs.RetentionDays_TEN_YEARS, true
	}
	return "", false
}

// ConfigFromContext reads Config from the CDK context and validates it,
// reporting every bad key at once.
func ConfigFromContext(node constructs.Node) (Config, error) {
	var errs []error
	str := func(key string) string {
		v := node.TryGetContext(&key)
		if v == nil {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			errs = append(errs, fmt.Errorf("context %q: want a string, got %v", key, v))
		}
		return strings.TrimSpace(s)
	}
	num := func(key string) float64 {
		switch v := node.TryGetContext(&key).(type) {
		case nil:
			return 0
		case float64: // a number in cdk.json
			return v
		case string: // -c key=value
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("context %q: want a number, got %q", key, v))
			}
			return f
		default:
			errs = append(errs, fmt.Errorf("context %q: want a number, got %v", key, v))
			return 0
		}
	}
	boolean := func(key string) bool {
		switch v := node.TryGetContext(&key).(type) {
		case nil:
			return false
		case bool: // cdk.json
			return v
		case string: // -c key=true
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				errs = append(errs, fmt.Errorf("context %q: want true or false, got %q", key, v))
			}
			return b
		default:
			errs = append(errs, fmt.Errorf("context %q: want true or false, got %v", key, v))
			return false
		}
	}
	integer := func(key string) int {
		f := num(key)
		if f != float64(int(f)) {
			errs = append(errs, fmt.Errorf("context %q: want a whole number, got %v", key, f))
		}
		return int(f)
	}
	cfg := Config{
		AssetDir:                  str("assetDir"),
		DomainName:                str("domainName"),
		CertificateArn:            str("certificateArn"),
		DisableExecuteApiEndpoint: boolean("disableExecuteApiEndpoint"),
		ThrottleRateLimit:         num("throttleRateLimit"),
		ThrottleBurstLimit:        num("throttleBurstLimit"),
		LogRetentionDays:          integer("logRetentionDays"),
		KeyRotationDays:           integer("keyRotationDays"),
		LogLevel:                  str("logLevel"),
		AlarmEmail:                str("alarmEmail"),
		AlarmTopicArn:             str("alarmTopicArn"),
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func (c Config) withDefaults() Config {
	if c.AssetDir == "" {
		c.AssetDir = DefaultAssetDir
	}
	if c.ThrottleRateLimit == 0 {
		c.ThrottleRateLimit = DefaultThrottleRateLimit
	}
	if c.ThrottleBurstLimit == 0 {
		c.ThrottleBurstLimit = DefaultThrottleBurstLimit
	}
	if c.LogRetentionDays == 0 {
		c.LogRetentionDays = DefaultLogRetentionDays
	}
	if c.KeyRotationDays == 0 {
		c.KeyRotationDays = DefaultKeyRotationDays
	}
	if c.LogLevel == "" {
		c.LogLevel = DefaultLogLevel
	}
	return c
}

// Validate checks a Config after defaults; it returns every problem at
// once. It does not look at the asset files (see assetPath).
func (c Config) Validate() error {
	var errs []error
	if (c.DomainName == "") != (c.CertificateArn == "") {
		errs = append(errs, errors.New("domainName and certificateArn go together: set both or neither"))
	}
	if c.DisableExecuteApiEndpoint && c.DomainName == "" {
		errs = append(errs, errors.New("disableExecuteApiEndpoint needs domainName: without a custom domain the API would be unreachable"))
	}
	if c.DomainName != "" && (strings.Contains(c.DomainName, "/") || strings.Contains(c.DomainName, ":")) {
		errs = append(errs, fmt.Errorf("domainName %q: want a host name such as sso.example.com, not a URL", c.DomainName))
	}
	if c.CertificateArn != "" && !(strings.HasPrefix(c.CertificateArn, "arn:") && strings.Contains(c.CertificateArn, ":acm:")) {
		errs = append(errs, fmt.Errorf("certificateArn %q: want an ACM certificate ARN", c.CertificateArn))
	}
	if c.ThrottleRateLimit <= 0 {
		errs = append(errs, fmt.Errorf("throttleRateLimit %v: must be positive", c.ThrottleRateLimit))
	}
	if c.ThrottleBurstLimit < 1 || c.ThrottleBurstLimit != float64(int(c.ThrottleBurstLimit)) {
		errs = append(errs, fmt.Errorf("throttleBurstLimit %v: must be a whole number >= 1", c.ThrottleBurstLimit))
	}
	if _, ok := retention(c.LogRetentionDays); !ok {
		errs = append(errs, fmt.Errorf("logRetentionDays %d: CloudWatch allows 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653", c.LogRetentionDays))
	}
	if c.KeyRotationDays < 1 || c.KeyRotationDays > 1000 {
		errs = append(errs, fmt.Errorf("keyRotationDays %d: Secrets Manager allows 1 to 1000", c.KeyRotationDays))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("logLevel %q: want debug, info, warn or error", c.LogLevel))
	}
	if c.AlarmEmail != "" && c.AlarmTopicArn != "" {
		errs = append(errs, errors.New("alarmEmail and alarmTopicArn: set one or neither"))
	}
	if c.AlarmEmail != "" && !strings.Contains(c.AlarmEmail, "@") {
		errs = append(errs, fmt.Errorf("alarmEmail %q: not an e-mail address", c.AlarmEmail))
	}
	if c.AlarmTopicArn != "" && !strings.Contains(c.AlarmTopicArn, ":sns:") {
		errs = append(errs, fmt.Errorf("alarmTopicArn %q: want an SNS topic ARN", c.AlarmTopicArn))
	}
	return errors.Join(errs...)
}

// assetPath returns the zip of one function, failing early with a hint
// rather than with CDK's "Cannot find asset" deep in synth.
func (c Config) assetPath(name string) (string, error) {
	p := filepath.Join(c.AssetDir, name+".zip")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("lambda asset %s: %w (run scripts/build.sh, or set -c assetDir=DIR)", p, err)
	}
	return p, nil
}
