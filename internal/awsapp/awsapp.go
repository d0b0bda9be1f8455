// Package awsapp wires the Lambda functions: it turns a config.Config into
// AWS clients, the DynamoDB store, the Secrets Manager key source and the
// handlers, once per cold start. The functions' mains stay a few lines.
// It is the one place besides the store and key adapters that imports the
// AWS SDK.
package awsapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go/logging"

	"github.com/samlflex/samlflex/internal/acs"
	"github.com/samlflex/samlflex/internal/config"
	"github.com/samlflex/samlflex/internal/flex"
	"github.com/samlflex/samlflex/internal/flexconn"
	"github.com/samlflex/samlflex/internal/httpapi"
	"github.com/samlflex/samlflex/internal/keys/smkeys"
	"github.com/samlflex/samlflex/internal/lambdahttp"
	"github.com/samlflex/samlflex/internal/store/dynamostore"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Clients are the AWS clients of one cold start.
type Clients struct {
	DynamoDB       *dynamodb.Client
	SecretsManager *secretsmanager.Client
}

// NewClients builds the AWS clients once per cold start. In Lambda the
// region and the function role's credentials are environment variables
// (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), so the SDK's config package, with its shared-config
// files, SSO, STS and instance-metadata providers, is not linked in: it
// added about 1.3 MB to each bootstrap and nothing a function uses. The
// SDK's own log lines (rare warnings) go through logger, so that every line
// a function writes is JSON.
func NewClients(_ context.Context, cfg config.Config, logger *slog.Logger) (*Clients, error) {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		return nil, errors.New("awsapp: AWS_REGION is not set (Lambda sets it)")
	}
	awsCfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(envCredentials{}),
		Logger:      sdkLogger{logger},
	}
	ddb := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if cfg.DynamoDBEndpoint != "" {
			o.BaseEndpoint = aws.String(cfg.DynamoDBEndpoint)
		}
	})
	sm := secretsmanager.NewFromConfig(awsCfg, func(o *secretsmanager.Options) {
		if cfg.SecretsManagerEndpoint != "" {
			o.BaseEndpoint = aws.String(cfg.SecretsManagerEndpoint)
		}
	})
	return &Clients{DynamoDB: ddb, SecretsManager: sm}, nil
}

// envCredentials reads the function role's credentials that Lambda puts in
// the environment. The cache asks again only if they are missing.
type envCredentials struct{}

func (envCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	c := aws.Credentials{
		AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
		Source:          "samlflex-lambda-environment",
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return aws.Credentials{}, errors.New("awsapp: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set (Lambda sets them from the function's role)")
	}
	return c, nil
}

// sdkLogger routes the AWS SDK's logging to slog.
type sdkLogger struct{ l *slog.Logger }

func (s sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	level := slog.LevelInfo
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	s.l.Log(context.Background(), level, "aws_sdk", "detail", fmt.Sprintf(format, v...))
}

// acs refreshes the key set on a login cookie's unknown kid through this
// interface; keep smkeys offering it.
var _ acs.KeyRefresher = (*smkeys.Source)(nil)

// SecretsManagerAPI is what the HTTP functions call: the key set read and,
// for the Flex connector, the per-account API key secrets.
type SecretsManagerAPI interface {
	smkeys.API
	flexconn.SMAPI
}

// HTTPDeps lets tests hand in clients (nil: NewClients).
type HTTPDeps struct {
	DynamoDB       dynamostore.API
	SecretsManager SecretsManagerAPI
	Now            func() time.Time
	// FlexBaseURL overrides Twilio's API for every account (tests).
	FlexBaseURL string
}

// NewHTTP builds the handler the acs and metadata functions serve. They
// only read the key secret (IAM grants them GetSecretValue alone): the
// rotate function seeds it, in the rotation that runs when the stack is
// deployed. Until then requests answer keys_unavailable.
func NewHTTP(cfg config.Config, deps HTTPDeps, logger *slog.Logger) (http.Handler, error) {
	st := dynamostore.New(deps.DynamoDB, dynamostore.Tables{Accounts: cfg.AccountsTable, Assertions: cfg.AssertionsTable})
	ks, err := smkeys.New(deps.SecretsManager, cfg.KeysSecretID, smkeys.Options{TTL: cfg.KeysCacheTTL, Logger: logger, Now: deps.Now})
	if err != nil {
		return nil, err
	}
	hc := httpapi.Config{BaseURL: cfg.BaseURL, Store: st, Keys: ks, Logger: logger, Now: deps.Now,
		TrustRequestIDHeader: true, AccountCacheTTL: cfg.AccountCacheTTL, SessionTokenAlg: cfg.SessionTokenAlg}
	if cfg.FlexSecretPrefix != "" {
		hc.Provisioner = &flexconn.Provisioner{
			Secrets: flexconn.NewSMSecrets(deps.SecretsManager, cfg.FlexSecretPrefix, cfg.KeysCacheTTL, deps.Now),
			NewClient: func(base string) (*flex.Client, error) {
				if base == "" {
					base = deps.FlexBaseURL
				}
				// The acs function's timeout is 10 s; the client's 8 s
				// budget (and the ctx deadline) keep a slow Twilio from
				// outliving the invocation.
				return flex.New(flex.Options{BaseURL: base, Logger: logger})
			},
		}
	}
	return httpapi.New(hc)
}

// StartHTTP is the whole main of the acs and metadata functions: the same
// handler serves both (the stack routes different paths to each, and IAM
// limits what each may do). It reads the configuration, builds everything
// once for this cold start, and hands the adapter to the Lambda runtime.
func StartHTTP(function string) {
	boot := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("function", function)
	cfg, err := config.Load(os.Getenv, config.Need{BaseURL: true, Assertions: true})
	if err != nil {
		boot.Error("cannot start", "err", err.Error())
		os.Exit(1)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel})).With("function", function)
	clients, err := NewClients(context.Background(), cfg, logger)
	if err != nil {
		logger.Error("cannot start", "err", err.Error())
		os.Exit(1)
	}
	h, err := NewHTTP(cfg, HTTPDeps{DynamoDB: clients.DynamoDB, SecretsManager: clients.SecretsManager}, logger)
	if err != nil {
		logger.Error("cannot start", "err", err.Error())
		os.Exit(1)
	}
	lambda.Start(lambdahttp.NewWithOptions(h, logger, lambdahttp.Options{MaxBody: MaxRequestBody}).Handle)
}

// MaxRequestBody caps the request body of the acs and metadata functions
// (lambdahttp; a base64 body is refused before it is decoded when its
// length alone exceeds this). It is the smaller of two bounds:
//   - httpapi's form-body cap for the largest SAMLResponse cap an account
//     may set (httpapi.BodyLimit(samlflex.LargestMaxResponseBytes): the cap
//     is on the decoded form value, and URL-encoding can triple it), so the
//     adapter never refuses what httpapi would accept;
//   - what can reach a function at all: a synchronous invocation carries at
//     most 6 MB, and API Gateway may base64-encode the body (4/3 larger).
//
// The second is the smaller: on AWS a form body over 4.5 MB never arrives,
// so an account cap above about 4.2 MB (max_response_bytes allows 4 MiB)
// is not reachable there; docs/aws.md says so. httpapi then applies the account's own cap (256 KiB by
// default) before it parses the form. TestMaxRequestBodyCoversEveryAccount
// pins both bounds.
const MaxRequestBody = min(3*samlflex.LargestMaxResponseBytes+16<<10, lambdaBodyCeiling)

// lambdaBodyCeiling is the largest body that fits a 6 MB synchronous
// invocation payload once base64-encoded.
const lambdaBodyCeiling = 6_000_000 / 4 * 3
