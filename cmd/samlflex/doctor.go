package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/samlflex/samlflex/internal/config"
	"github.com/samlflex/samlflex/internal/doctor"
)

const doctorAbout = `Checks a running samlflex from the outside, as an admin would after
"cdk deploy" or before a go-live: TLS and the certificate's host, /healthz,
the account's SP metadata (entity ID, ACS URL, certificates), the JWKS, the
login link (redirect to the IdP, the AuthnRequest, the login cookie's
attributes) and the server's clock. With AWS credentials and --stack (or
--secret-id, --alarm-topic-arn) it also checks the stack's status, the
SP key secret's rotation and that the alarm topic has a confirmed
subscription and lets CloudWatch publish.

Each finding is ok, warn, fail or skip, with what was seen, what was
expected and what to fix. Exit 0 when nothing failed (warnings allowed),
1 when a check failed, 2 on a usage error. Nothing is changed: doctor only
reads (GET requests; cloudformation:DescribeStacks and ListStackResources,
secretsmanager:DescribeSecret, sns:ListSubscriptionsByTopic and
GetTopicAttributes). See docs/doctor.md.`

func runDoctor(ctx context.Context, a *app, args []string) int {
	c, _ := findCommand("doctor")
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	baseURL := fs.String("base-url", a.getenv(config.EnvBaseURL), "public base `URL` of the deployment (the stack output BaseUrl, or serve's\n--base-url) (default $SAMLFLEX_BASE_URL, else the output of --stack)")
	sid := fs.String("account-sid", "", "`AC...` of an account on the deployment: enables the metadata and login checks")
	idp := fs.String("idp-sso-url", "", "the account's IdP SSO `URL`: the login link must redirect there (optional)")
	output := fs.String("output", "text", "`FORMAT` of the report: text or json")
	stack := fs.String("stack", "", "CloudFormation stack `NAME` (Samlflex unless you renamed it): checks its status and\nalarm topic, and reads its outputs BaseUrl and KeysSecretArn for the flags not given;\nuses the default AWS credential chain (region from AWS_REGION or the profile)")
	secretID := fs.String("secret-id", a.getenv(config.EnvKeysSecretID), "the SP key secret's `ARN` or name (the stack output KeysSecretArn): checks its\nrotation (default $SAMLFLEX_KEYS_SECRET_ID, else the output of --stack)")
	topic := fs.String("alarm-topic-arn", "", "the alarm topic's `ARN`, when the stack did not create it (alarmTopicArn)")
	smEndpoint := fs.String("secrets-manager-endpoint", "", "Secrets Manager endpoint `URL` of a local stand-in (tests); only with\n--secret-id, and without --stack or --alarm-topic-arn")
	if code, done := a.parseFlags(c, fs, args); done {
		return code
	}
	if *output != "text" && *output != "json" {
		return a.usageError(c, "--output must be text or json")
	}
	if *smEndpoint != "" && (*secretID == "" || *stack != "" || *topic != "") {
		return a.usageError(c, "--secrets-manager-endpoint needs --secret-id, and works without --stack and --alarm-topic-arn only")
	}
	logger, err := newLogger(a.stderr, a.getenv)
	if err != nil {
		return a.usageError(c, "%v", err)
	}
	cfg := doctor.Config{BaseURL: *baseURL, AccountSID: *sid, IdPSSOURL: *idp, Now: a.now, Logger: logger}
	if *secretID != "" || *stack != "" || *topic != "" {
		clients, err := doctor.NewAWSClients(ctx, *smEndpoint)
		if err != nil {
			return a.failure(c, "%v", err)
		}
		cfg.Secrets, cfg.KeysSecretID = clients.Secrets, *secretID
		if *stack != "" {
			cfg.Stack, cfg.Stacks = *stack, clients.Stacks
		}
		if *stack != "" || *topic != "" {
			cfg.AlarmTopicARN, cfg.Topics = *topic, clients.Topics
		}
	}
	rep, err := doctor.Run(ctx, cfg)
	if err != nil {
		return a.usageError(c, "%s", strings.TrimPrefix(err.Error(), doctor.ErrUsage.Error()+": "))
	}
	if *output == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		printReport(a.stdout, rep)
	}
	if rep.Failed() {
		return exitFailure
	}
	return exitOK
}

// printReport writes the findings for a terminal: one line per finding,
// and the details of those that are not ok.
func printReport(w io.Writer, rep *doctor.Report) {
	fmt.Fprintf(w, "samlflex doctor %s", rep.BaseURL)
	if rep.AccountSID != "" {
		fmt.Fprintf(w, " (account %s)", rep.AccountSID)
	}
	fmt.Fprintf(w, " at %s\n\n", rep.CheckedAt.Format("2006-01-02 15:04:05Z"))
	for _, f := range rep.Findings {
		fmt.Fprintf(w, "%-5s %-26s %s\n", strings.ToUpper(string(f.Status)), f.Check, f.Seen)
		if f.Status == doctor.StatusWarn || f.Status == doctor.StatusFail {
			if f.Expected != "" {
				fmt.Fprintf(w, "      %-26s expected: %s\n", "", f.Expected)
			}
			if f.Fix != "" {
				fmt.Fprintf(w, "      %-26s fix: %s\n", "", f.Fix)
			}
		}
	}
	fmt.Fprintf(w, "\n%d ok, %d warn, %d fail, %d skipped\n", rep.Count(doctor.StatusOK), rep.Count(doctor.StatusWarn),
		rep.Count(doctor.StatusFail), rep.Count(doctor.StatusSkip))
}
