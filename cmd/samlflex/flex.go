package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/samlflex/samlflex/internal/flex"
	"github.com/samlflex/samlflex/internal/flexconn"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// flexFlags are the Flex connector settings of `account put`.
type flexFlags struct {
	instanceSID, keySID, secretFile, baseURL, deliveryURL string
	remove                                                bool
	secretPrefix, smEndpoint                              string
}

func (f *flexFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&f.instanceSID, "flex-instance-sid", "", "Flex instance `SID` (GO followed by 32 hex digits; Twilio Console, Flex):\nlogins then provision the Flex user and deliver a Flex user token")
	fs.StringVar(&f.keySID, "flex-api-key-sid", "", "Twilio API key `SID` (SK...) used to provision users and mint tokens")
	fs.StringVar(&f.secretFile, "flex-api-key-secret-file", "", "`FILE` holding the API key's secret; stored in the key/secret store\n(DIR/flex-secrets.json, mode 0600, or Secrets Manager), never in the account")
	fs.StringVar(&f.baseURL, "flex-api-base-url", "", "Twilio Flex API base `URL` (default Twilio's; for tests)")
	fs.StringVar(&f.deliveryURL, "flex-delivery-url", "", "`URL` of the Flex UI or Flex SDK app that receives the Flex token in\n#token=... (default: the start URL)")
	fs.BoolVar(&f.remove, "flex-remove", false, "remove the Flex connection: logins get samlflex's own token again")
	fs.StringVar(&f.secretPrefix, "flex-secret-prefix", getenv("SAMLFLEX_FLEX_SECRET_PREFIX"), "with --dynamodb-table: Secrets Manager name `PREFIX` of the API key\nsecrets (the stack's FlexSecretPrefix output; default\n$SAMLFLEX_FLEX_SECRET_PREFIX)")
	f.smEndpoint = getenv("SAMLFLEX_SECRETSMANAGER_ENDPOINT")
}

var flexFlagNames = []string{"flex-instance-sid", "flex-api-key-sid", "flex-api-key-secret-file", "flex-api-base-url", "flex-delivery-url"}

// apply sets acct.Flex from the flags given and returns the secret to store
// (read from its file), or problems.
func (f *flexFlags) apply(acct *samlflex.Account, given map[string]bool) (string, []problem) {
	var ps []problem
	if f.remove {
		for _, n := range flexFlagNames {
			if given[n] {
				ps = append(ps, problem{Field: "flex", Flag: "--flex-remove", Message: "cannot be combined with --" + n})
			}
		}
		acct.Flex = nil
		return "", ps
	}
	touched := false
	for _, n := range flexFlagNames {
		touched = touched || given[n]
	}
	if !touched {
		return "", nil
	}
	if acct.Flex == nil {
		acct.Flex = &samlflex.FlexConnection{}
	}
	set := map[string]*string{"flex-instance-sid": &acct.Flex.InstanceSID, "flex-api-key-sid": &acct.Flex.APIKeySID,
		"flex-api-base-url": &acct.Flex.APIBaseURL, "flex-delivery-url": &acct.Flex.DeliveryURL}
	val := map[string]string{"flex-instance-sid": f.instanceSID, "flex-api-key-sid": f.keySID,
		"flex-api-base-url": f.baseURL, "flex-delivery-url": f.deliveryURL}
	for n, dst := range set {
		if given[n] {
			*dst = strings.TrimSpace(val[n])
		}
	}
	secret := ""
	if given["flex-api-key-secret-file"] {
		b, err := os.ReadFile(f.secretFile)
		switch {
		case err != nil:
			ps = append(ps, problem{Field: "flex.api_key_secret", Flag: "--flex-api-key-secret-file " + f.secretFile, Message: "cannot read the file: " + errors.Unwrap(err).Error()})
		case len(strings.TrimSpace(string(b))) < 16 || len(b) > 4096:
			ps = append(ps, problem{Field: "flex.api_key_secret", Flag: "--flex-api-key-secret-file " + f.secretFile, Message: "does not hold a Twilio API key secret (the 32-character secret shown once when the key was created)"})
		default:
			secret = strings.TrimSpace(string(b))
		}
	}
	return secret, ps
}

// secrets opens the key/secret store matching the account store.
func (f *flexFlags) secrets(ctx context.Context, s storageFlags) (flexconn.Secrets, error) {
	if s.table == "" {
		return flexconn.NewFileSecrets(s.data), nil
	}
	if f.secretPrefix == "" {
		return nil, errors.New("--flex-secret-prefix is required with --dynamodb-table (the stack's FlexSecretPrefix output)")
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %v", err)
	}
	sm := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		if f.smEndpoint != "" {
			o.BaseEndpoint = aws.String(f.smEndpoint)
		}
	})
	return flexconn.NewSMSecrets(sm, f.secretPrefix, 0, nil), nil
}

// newFlexProvisioner is what serve and dev hand to the ACS.
func newFlexProvisioner(dataDir string, logger *slog.Logger) *flexconn.Provisioner {
	return &flexconn.Provisioner{Secrets: flexconn.NewFileSecrets(dataDir), NewClient: func(base string) (*flex.Client, error) {
		return flex.New(flex.Options{BaseURL: base, Logger: logger})
	}}
}

const flexCheckAbout = `Calls Twilio read-only with the account's Flex connection (API key SID and
the stored secret) to check that the key works and names the instance, and
prints what Twilio answered. Nothing is created or changed.`

func runFlexCheck(ctx context.Context, a *app, args []string) int {
	c, _ := findCommand("flex check")
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	sid := fs.String("account-sid", "", "the Flex Account `SID` whose connection to check")
	var st storageFlags
	st.register(fs, a.getenv)
	var ff flexFlags
	ff.register(fs, a.getenv)
	if code, done := a.parseFlags(c, fs, args); done {
		return code
	}
	if err := st.resolve(visited(fs)); err != nil {
		return a.usageError(c, "%v", err)
	}
	if !samlflex.ValidAccountSID(*sid) {
		return a.usageError(c, "--account-sid must be AC followed by 32 hex digits")
	}
	acct, code, ok := a.readAccount(ctx, c, st, *sid)
	switch {
	case !ok:
		return code
	case acct.Flex == nil:
		return a.failure(c, "account %s has no Flex connection; add one with `samlflex account put --flex-instance-sid ...`", *sid)
	}
	secrets, err := ff.secrets(ctx, st)
	if err != nil {
		return a.usageError(c, "%v", err)
	}
	secret, err := secrets.APISecret(ctx, *sid)
	if err != nil {
		return a.failure(c, "the API key secret of %s: %v", *sid, err)
	}
	client, err := flex.New(flex.Options{BaseURL: acct.Flex.APIBaseURL})
	if err != nil {
		return a.failure(c, "%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	res, err := client.Check(ctx, flex.Creds{APIKeySID: acct.Flex.APIKeySID, APISecret: secret}, acct.Flex.InstanceSID)
	if err != nil {
		return a.failure(c, "%s [%s]", samlflex.PublicOf(err), samlflex.CodeOf(err))
	}
	fmt.Fprintf(a.stdout, "Flex connection of %s works: Twilio accepted API key %s and can read the\nusers of Flex instance %s.\n", *sid, acct.Flex.APIKeySID, acct.Flex.InstanceSID)
	fmt.Fprintf(a.stdout, "  Twilio account:  %s\n  Flex instance:   %s\n", res.AccountSID, res.InstanceSID)
	if res.AccountSID != "" && res.AccountSID != *sid {
		fmt.Fprintf(a.stdout, "  Note: the API key belongs to Twilio account %s, not %s.\n", res.AccountSID, *sid)
	}
	return exitOK
}
