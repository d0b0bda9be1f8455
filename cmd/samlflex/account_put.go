package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/samlflex/samlflex/internal/config"
	"github.com/samlflex/samlflex/internal/flexconn"
	"github.com/samlflex/samlflex/internal/idpmeta"
	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

const putAbout = `Creates the account when it does not exist, or updates it. An update starts
from the stored settings and changes only the flags given, and saves only if
nobody changed the account in between (optimistic check on its version).
The settings are checked before anything is written; every problem is shown
at once (exit 2, nothing saved).

Where the values come from (Flex setup guide, "Configure Salesforce"):
  --idp-cert      Salesforce: Setup, Identity Provider, Download Certificate
  --idp-issuer    Salesforce: the Issuer shown under Setup, Identity Provider
  --idp-sso-url   the "Default Redirect URL": Salesforce's SP-initiated
                  endpoint, https://DOMAIN.my.salesforce.com/idp/endpoint/HttpRedirect
  --start-url     where agents land after signing in (the agent desktop)
  --idp-metadata  instead of the first three: Salesforce's Identity Provider
                  metadata (Setup, Identity Provider, Download Metadata), a
                  file or an https URL (docs/idp-metadata.md)

Example:
  samlflex account put --account-sid AC0123456789abcdef0123456789abcdef \
    --friendly-name Salesforce --idp-cert salesforce.crt \
    --idp-issuer https://acme.my.salesforce.com \
    --idp-sso-url https://acme.my.salesforce.com/idp/endpoint/HttpRedirect \
    --start-url https://flex.twilio.com/agent-desktop

Flex connector (optional): with --flex-instance-sid, --flex-api-key-sid and
--flex-api-key-secret-file, each login provisions the Flex user (name,
e-mail, roles) and the browser receives a Flex user token instead of
samlflex's own. --flex-remove turns it off.`

// putOptions are the flags of `account put`. Typed settings are kept as
// typed text (rawFlag) and parsed after flag parsing, so that bad values
// are reported together with the validation problems.
type putOptions struct {
	storage       storageFlags
	output        string
	baseURL       string
	expectVersion rawFlag
	settings      settingValues
	flex          flexFlags
	metadata      metadataFlags
}

func newPutFlags(getenv func(string) string) (*flag.FlagSet, *putOptions) {
	o := &putOptions{}
	fs := flag.NewFlagSet("account put", flag.ContinueOnError)
	o.settings = registerSettings(fs)
	fs.Var(&o.expectVersion, "expect-version", "save only if the stored version is `N` (the \"version\" of get --output json);\n0 means create only")
	fs.StringVar(&o.baseURL, "base-url", getenv(config.EnvBaseURL), "public base `URL` of samlflex, to print the URLs for Salesforce\n(default $SAMLFLEX_BASE_URL)")
	fs.StringVar(&o.output, "output", "text", "`FORMAT` of the result: text or json")
	o.metadata.register(fs)
	o.storage.register(fs, getenv)
	o.flex.register(fs, getenv)
	return fs, o
}

// sid is the --account-sid given.
func (o *putOptions) sid() string { return o.settings["account-sid"].String() }

// problem is one reason not to save, in the admin's terms.
type problem struct {
	Field   string `json:"field"`
	Flag    string `json:"flag"`
	Message string `json:"message"`
}

func runPut(ctx context.Context, a *app, args []string) int {
	c, _ := findCommand("account put")
	fs, o := newPutFlags(a.getenv)
	if code, done := a.parseFlags(c, fs, args); done {
		return code
	}
	given := visited(fs)
	if err := o.storage.resolve(given); err != nil {
		return a.usageError(c, "%v", err)
	}
	if o.output != "text" && o.output != "json" {
		return a.usageError(c, "--output must be text or json")
	}
	if err := o.metadata.check(given); err != nil {
		return a.usageError(c, "%v", err)
	}
	if o.baseURL != "" {
		if err := checkBaseURL(o.baseURL); err != nil {
			return a.usageError(c, "--base-url %q: %s", o.baseURL, err)
		}
	}
	now := a.now()

	// Start from the stored account on update. An SID of the wrong shape
	// cannot be stored, so it is not looked up: validation reports it with
	// everything else.
	acct := samlflex.Account{AccountSID: o.sid()}
	var expect int64
	certSources := []string{}
	var accounts store.Accounts
	if samlflex.ValidAccountSID(o.sid()) {
		st, closeStore, err := o.storage.openAccounts(ctx, a.stderr)
		if err != nil {
			return a.failure(c, "%s", storeFailure(err))
		}
		defer func() { _ = closeStore() }()
		accounts = st
		stored, err := st.Get(ctx, o.sid())
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return a.failure(c, "reading %s from %s: %s", o.sid(), o.storage.describe(), storeFailure(err))
		default:
			acct, expect = stored, stored.Version
			for i := range stored.IdPCertificates {
				certSources = append(certSources, fmt.Sprintf("stored IdP certificate %d (replace the list with --idp-cert)", i+1))
			}
		}
	}
	created := expect == 0

	problems := applySettings(o.settings, &putState{acct: &acct, certSources: &certSources, given: given})
	if given["idp-metadata"] {
		ps, notes := o.metadata.apply(ctx, now, &acct, &certSources)
		problems = append(problems, ps...)
		for _, n := range notes {
			fmt.Fprintf(a.stderr, "samlflex account put: --idp-metadata: %s\n", n)
		}
	}
	flexSecret, flexProblems := o.flex.apply(&acct, given)
	problems = append(problems, flexProblems...)
	// The secret is checked (and later stored) in the key/secret store that
	// matches the account store. A connection without a secret would make
	// every login fail, so it is refused here.
	var secrets flexconn.Secrets
	if acct.Flex != nil {
		var err error
		if secrets, err = o.flex.secrets(ctx, o.storage); err != nil {
			problems = append(problems, problem{Field: "flex.api_key_secret", Flag: "--flex-secret-prefix", Message: err.Error()})
		} else if flexSecret == "" {
			if _, err := secrets.APISecret(ctx, acct.AccountSID); errors.Is(err, flexconn.ErrNoSecret) {
				problems = append(problems, problem{Field: "flex.api_key_secret", Flag: "--flex-api-key-secret-file", Message: "is required: no API key secret is stored for this account yet"})
			} else if err != nil {
				return a.failure(c, "reading the stored Flex API key secret: %v", err)
			}
		}
	}
	if given["expect-version"] {
		n, err := strconv.ParseInt(o.expectVersion.value, 10, 64)
		if err != nil || n < 0 {
			problems = append(problems, problem{Field: "version", Flag: "--expect-version", Message: "must be a whole number (0 to create only)"})
		} else {
			expect = n
		}
	}
	if err := acct.Validate(now); err != nil {
		var ve *samlflex.ValidationError
		if !errors.As(err, &ve) {
			return a.failure(c, "%v", err)
		}
		unreadable, metadataFailed := false, false
		for _, p := range problems {
			unreadable = unreadable || p.Field == "idp_certificates"
			metadataFailed = metadataFailed || p.Flag == "--idp-metadata"
		}
		for _, fe := range ve.Problems {
			if fe.Field == "idp_certificates" && unreadable {
				// "At least one certificate is required" only repeats
				// that the file given could not be read.
				continue
			}
			if metadataFailed && (fe.Field == "idp_issuer" || fe.Field == "idp_sso_url") {
				// Both would have come from the metadata that could
				// not be used: the import problem says it all.
				continue
			}
			problems = append(problems, problem{Field: fe.Field, Flag: flagFor(fe.Field, acct, certSources), Message: fe.Message})
		}
	}
	if len(problems) > 0 {
		sortProblems(problems)
		fmt.Fprintf(a.stderr, "samlflex account put: nothing was saved; fix these settings and run again:\n")
		for _, p := range problems {
			fmt.Fprintf(a.stderr, "  %s: %s\n", p.Flag, p.Message)
		}
		if o.output == "json" {
			writeJSON(a.stdout, struct {
				Error    string    `json:"error"`
				Problems []problem `json:"problems"`
			}{"invalid_settings", problems})
		}
		return exitUsage
	}

	if accounts == nil {
		// Unreachable: an SID that was not looked up fails validation.
		return a.failure(c, "internal error: no store opened for %q", o.sid())
	}
	// Secret first: if saving the account then fails, an unused secret is
	// left (re-running completes the change); the other order could leave
	// an account pointing at a missing secret, failing every login.
	if flexSecret != "" {
		if err := secrets.PutAPISecret(ctx, acct.AccountSID, flexSecret); err != nil {
			return a.failure(c, "storing the Flex API key secret: %v; nothing was saved", err)
		}
	}
	version, err := accounts.Put(ctx, acct, expect, now)
	switch {
	case errors.Is(err, store.ErrVersionConflict):
		if created && !given["expect-version"] {
			return a.failure(c, "%s was created by someone else while this command ran; nothing was saved. Run the command again to update it.", o.sid())
		}
		return a.failure(c, "%s was changed by someone else since it was read (version conflict); nothing was saved. Run the command again.", o.sid())
	case err != nil:
		return a.failure(c, "saving %s to %s: %s", o.sid(), o.storage.describe(), storeFailure(err))
	}
	acct.Version, acct.UpdatedAt = version, now.UTC()
	// Saved, but likely mistakes are named (on stderr: stdout, text or
	// JSON, stays the result).
	if ws := settingWarnings(acct); len(ws) > 0 {
		fmt.Fprintf(a.stderr, "samlflex account put: saved, but check these settings:\n")
		for _, w := range ws {
			fmt.Fprintf(a.stderr, "  warning: %s: %s\n", w.Flag, w.Message)
		}
	}

	if o.output == "json" {
		writeJSON(a.stdout, accountView(acct, o.baseURL))
		return exitOK
	}
	verb := "Updated"
	if created {
		verb = "Created"
	}
	fmt.Fprintf(a.stdout, "%s account %s in %s.\n\n", verb, acct.AccountSID, o.storage.describe())
	printAccount(a.stdout, acct, o.baseURL, now)
	return exitOK
}

func sortProblems(ps []problem) {
	sort.SliceStable(ps, func(i, j int) bool { return fieldRank(ps[i].Field) < fieldRank(ps[j].Field) })
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// metadataFlags are --idp-metadata and --idp-metadata-entity-id, shared
// by account put and account check.
type metadataFlags struct {
	source, entityID string
}

func (m *metadataFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.source, "idp-metadata", "", "the IdP's SAML metadata, a `FILE` or an https URL: sets the IdP certificates,\nissuer and SSO URL (not together with --idp-cert, --idp-issuer, --idp-sso-url)")
	fs.StringVar(&m.entityID, "idp-metadata-entity-id", "", "the `ENTITYID` to import when the metadata describes several IdPs")
}

// check refuses --idp-metadata next to the manual IdP flags. The
// certificate, issuer and SSO URL of one IdP belong together: mixing
// imported and typed values would save a set no IdP published, so the two
// ways are exclusive (docs/idp-metadata.md).
func (m *metadataFlags) check(given map[string]bool) error {
	if !given["idp-metadata"] {
		if given["idp-metadata-entity-id"] {
			return errors.New("--idp-metadata-entity-id needs --idp-metadata")
		}
		return nil
	}
	for _, f := range []string{"idp-cert", "idp-issuer", "idp-sso-url"} {
		if given[f] {
			return fmt.Errorf("--idp-metadata sets the IdP certificates, issuer and SSO URL: leave out --%s, or leave out --idp-metadata", f)
		}
	}
	return nil
}

// apply fills acct's IdP certificates, issuer and SSO URL from the
// metadata, as of at, and names the certificates' source for later
// problems. It returns the import's problem (nothing is applied then) and
// its notes (expired certificates left out).
func (m *metadataFlags) apply(ctx context.Context, at time.Time, acct *samlflex.Account, certSources *[]string) ([]problem, []string) {
	md, err := (&idpmeta.Loader{}).Import(ctx, m.source, m.entityID, at)
	if err != nil {
		return []problem{{Field: "idp_certificates", Flag: "--idp-metadata", Message: metadataProblem(err)}}, nil
	}
	md.Apply(acct)
	*certSources = (*certSources)[:0]
	for i := range md.Certificates {
		*certSources = append(*certSources, fmt.Sprintf("--idp-metadata certificate %d", i+1))
	}
	return nil, md.Notes
}

// metadataProblem is the admin's sentence for a refused metadata import:
// the public message, and the detail when it adds something (the detail
// names our own limits and the document's structure, never its content
// beyond short, cut identifiers).
func metadataProblem(err error) string {
	pub := samlflex.PublicOf(err)
	var e *samlflex.Error
	if errors.As(err, &e) && e.Err != nil {
		return pub + " (" + e.Err.Error() + ")"
	}
	if !errors.As(err, &e) {
		return err.Error()
	}
	return pub
}
