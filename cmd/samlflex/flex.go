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

	"github.com/samlflex/samlflex/internal/config"
	"github.com/samlflex/samlflex/internal/flex"
	"github.com/samlflex/samlflex/internal/flexconn"
	"github.com/samlflex/samlflex/internal/keys/smkeys/smclient"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// flexFlags are the Flex connector settings of `account put`.
type flexFlags struct {
	instanceSID, keySID, secretFile, authTokenFile, baseURL, deliveryURL string
	remove                                                               bool
	secretPrefix, smEndpoint                                             string
}

func (f *flexFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&f.instanceSID, "flex-instance-sid", "", "Flex instance `SID` (GO followed by 32 hex digits; Twilio Console, Flex):\nlogins then provision the Flex user and deliver a Flex user token")
	fs.StringVar(&f.keySID, "flex-api-key-sid", "", "Twilio API key `SID` (SK...) used to provision users and mint tokens")
	fs.StringVar(&f.secretFile, "flex-api-key-secret-file", "", "`FILE` holding the API key's secret; stored in the key/secret store\n(DIR/flex-secrets.json, mode 0600, or Secrets Manager), never in the account")
	fs.StringVar(&f.authTokenFile, "flex-auth-token-file", "", "`FILE` holding the account's Auth Token, instead of an API key (the\ncredential Twilio's Flex v4 pages show; an API key is preferred, see\ndocs/flex.md); stored like the API key secret")
	fs.StringVar(&f.baseURL, "flex-api-base-url", "", "Twilio Flex API base `URL` (default Twilio's; for tests)")
	fs.StringVar(&f.deliveryURL, "flex-delivery-url", "", "`URL` of the Flex UI or Flex SDK app that receives the Flex token in\n#token=... (default: the start URL)")
	fs.BoolVar(&f.remove, "flex-remove", false, "remove the Flex connection: logins get samlflex's own token again")
	f.registerSecretStore(fs, getenv)
}

// registerSecretStore adds only the flag that locates the stored secrets:
// what `flex check`, which changes nothing, needs.
func (f *flexFlags) registerSecretStore(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&f.secretPrefix, "flex-secret-prefix", getenv(config.EnvFlexSecretsPrefix), "with --dynamodb-table: Secrets Manager name `PREFIX` of the API key\nsecrets (the stack's FlexSecretPrefix output; default\n$SAMLFLEX_FLEX_SECRET_PREFIX)")
	f.smEndpoint = getenv(config.EnvSecretsEndpoint)
}

var flexFlagNames = []string{"flex-instance-sid", "flex-api-key-sid", "flex-api-key-secret-file", "flex-auth-token-file", "flex-api-base-url", "flex-delivery-url"}

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
	// The stored secret belongs to the saved username: a different API key
	// (or leaving the Auth Token for a key) with the old secret could only
	// earn a 401 at the next login.
	if prev := acct.Flex.APIKeySID; given["flex-api-key-sid"] && !given["flex-api-key-secret-file"] &&
		prev != "" && prev != strings.TrimSpace(f.keySID) {
		ps = append(ps, problem{Field: "flex.api_key_secret", Flag: "--flex-api-key-sid",
			Message: "a different API key needs its own secret: add --flex-api-key-secret-file"})
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
		secret = readSecretFile(&ps, "--flex-api-key-secret-file", f.secretFile,
			"does not hold a Twilio API key secret (the 32-character secret shown once when the key was created)")
	}
	if given["flex-auth-token-file"] {
		if given["flex-api-key-sid"] || given["flex-api-key-secret-file"] {
			ps = append(ps, problem{Field: "flex.api_key_sid", Flag: "--flex-auth-token-file",
				Message: "cannot be combined with --flex-api-key-sid or --flex-api-key-secret-file: use an API key or the Auth Token"})
		}
		// The Auth Token authenticates as the account itself: the Account
		// SID is the basic-auth username (pkg/samlflex accepts it there).
		acct.Flex.APIKeySID = acct.AccountSID
		secret = readSecretFile(&ps, "--flex-auth-token-file", f.authTokenFile,
			"does not hold a Twilio Auth Token (32 characters, Twilio Console, Account info)")
	}
	return secret, ps
}

// readSecretFile reads a secret from a file, or adds a problem saying why
// the file is not one. Its content never appears in a problem.
func readSecretFile(ps *[]problem, flagName, file, notSecret string) string {
	b, err := os.ReadFile(file)
	switch {
	case err != nil:
		*ps = append(*ps, problem{Field: "flex.api_key_secret", Flag: flagName + " " + file, Message: "cannot read the file: " + errors.Unwrap(err).Error()})
	case len(strings.TrimSpace(string(b))) < 16 || len(b) > 4096:
		*ps = append(*ps, problem{Field: "flex.api_key_secret", Flag: flagName + " " + file, Message: notSecret})
	default:
		return strings.TrimSpace(string(b))
	}
	return ""
}

// secrets opens the key/secret store matching the account store.
func (f *flexFlags) secrets(ctx context.Context, s storageFlags) (flexconn.Secrets, error) {
	if s.table == "" {
		return flexconn.NewFileSecrets(s.data), nil
	}
	if f.secretPrefix == "" {
		return nil, errors.New("--flex-secret-prefix is required with --dynamodb-table (the stack's FlexSecretPrefix output)")
	}
	// The one Secrets Manager client constructor of the CLI (keys and
	// doctor use it too); with an endpoint it signs with dummy credentials.
	sm, err := smclient.New(ctx, f.smEndpoint)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %v", err)
	}
	return flexconn.NewSMSecrets(sm, f.secretPrefix, 0, nil), nil
}

// newFlexProvisioner is what serve and dev hand to the ACS.
func newFlexProvisioner(dataDir string, logger *slog.Logger) *flexconn.Provisioner {
	return &flexconn.Provisioner{Secrets: flexconn.NewFileSecrets(dataDir), NewClient: func(base string) (*flex.Client, error) {
		return flex.New(flex.Options{BaseURL: base, Logger: logger})
	}}
}

const flexCheckAbout = `Calls Twilio read-only with the account's Flex connection (API key SID or
Auth Token, and the stored secret): reads the Flex instance (is it there,
ready, and in this account?) and looks up a probe user, then prints which
credential Twilio accepted and what it answered. Nothing is created or
changed.

With --provision-test-user (opt-in, it changes Twilio) it then runs a
login's calls for a throwaway user named samlflex-test-...: provision
(create, then update), look it up, mint a one-minute token, deprovision it
and look it up again, and prints every answer, to confirm the behaviours
samlflex assumes (docs/flex.md). The deactivated user stays in Flex's user
list.`

func runFlexCheck(ctx context.Context, a *app, args []string) int {
	c, _ := findCommand("flex check")
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	sid := fs.String("account-sid", "", "the Flex Account `SID` whose connection to check")
	testUser := fs.Bool("provision-test-user", false, "also provision, token, and deprovision a throwaway Flex user (changes Twilio)")
	var st storageFlags
	st.register(fs, a.getenv)
	var ff flexFlags
	// Only where the secret is: the write flags of account put (such as
	// --flex-remove) are unknown here, and refused as such.
	ff.registerSecretStore(fs, a.getenv)
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
		return a.failure(c, "the Twilio secret of %s: %v", *sid, err)
	}
	client, err := flex.New(flex.Options{BaseURL: acct.Flex.APIBaseURL})
	if err != nil {
		return a.failure(c, "%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	creds := flexconn.CredsFor(&acct, secret)
	res, err := client.Check(ctx, creds, acct.Flex.InstanceSID)
	if err != nil {
		return a.failure(c, "%s [%s]\n  detail: %v", samlflex.PublicOf(err), samlflex.CodeOf(err), err)
	}
	fmt.Fprintf(a.stdout, "Flex connection of %s works: Twilio accepted the %s (%s) and can\nread Flex instance %s and its users.\n",
		*sid, credName(res.CredKind), creds.Username, acct.Flex.InstanceSID)
	fmt.Fprintf(a.stdout, "  Twilio account:  %s\n  Flex instance:   %s (%s)\n  User lookup:     HTTP %d for an unknown user\n",
		res.AccountSID, res.InstanceSID, res.Status, res.LookupStatus)
	if res.CredKind == flex.CredAuthToken {
		fmt.Fprintf(a.stdout, "  Note: an API key is preferred to the Auth Token (revocable on its own; docs/flex.md).\n")
	}
	if !*testUser {
		return exitOK
	}
	rep, err := client.ProvisionTestUser(ctx, creds, acct.Flex.InstanceSID)
	fmt.Fprintf(a.stdout, "\nTest user %s:\n", rep.Username)
	for _, o := range rep.Observations {
		status := "no answer"
		if o.Status != 0 {
			status = fmt.Sprintf("HTTP %d", o.Status)
		}
		fmt.Fprintf(a.stdout, "  %-26s %-10s %s\n", o.Step, status, o.Note)
	}
	if err != nil {
		return a.failure(c, "test user: %s [%s]\n  detail: %v", samlflex.PublicOf(err), samlflex.CodeOf(err), err)
	}
	fmt.Fprintf(a.stdout, "Compare these answers with the checklist in docs/flex.md.\n")
	return exitOK
}

func credName(k flex.CredKind) string {
	if k == flex.CredAuthToken {
		return "Account SID and Auth Token"
	}
	return "API key"
}
