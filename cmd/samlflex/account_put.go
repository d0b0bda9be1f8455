package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/samlflex/samlflex/internal/config"
	"github.com/samlflex/samlflex/internal/flexconn"
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

	sid, friendlyName, issuer, ssoURL, startURL string
	fullNameAttr, rolesAttr, emailAttr          string
	certs, redirects                            listFlag
	allowIdPInitiated, allowSHA1, signAuthn     rawFlag
	idpInitiated                                rawFlag
	defaultRoles, clockSkew, maxResponse, ttl   rawFlag
	maxAuthnAge                                 rawFlag
	flex                                        flexFlags
}

func newPutFlags(getenv func(string) string) (*flag.FlagSet, *putOptions) {
	o := &putOptions{
		allowIdPInitiated: rawFlag{isBool: true},
		allowSHA1:         rawFlag{isBool: true},
		signAuthn:         rawFlag{isBool: true},
	}
	fs := flag.NewFlagSet("account put", flag.ContinueOnError)
	fs.StringVar(&o.sid, "account-sid", "", "the Flex Account `SID`: AC followed by 32 hex digits (Twilio Console)")
	fs.StringVar(&o.friendlyName, "friendly-name", "", "a `NAME` that tells admins which IdP this is, for example Salesforce")
	fs.Var(&o.certs, "idp-cert", "`FILE` holding the IdP signing certificate (PEM, with or without the\nBEGIN/END lines, any line endings); repeat it to trust two during a\ncertificate rollover; replaces the stored list")
	fs.StringVar(&o.issuer, "idp-issuer", "", "the Identity Provider Issuer `URL` (Salesforce: Setup, Identity Provider)")
	fs.StringVar(&o.ssoURL, "idp-sso-url", "", "the Default Redirect `URL`: the IdP's SP-initiated HTTP-Redirect endpoint")
	fs.StringVar(&o.startURL, "start-url", "", "`URL` where agents land after signing in (the agent desktop)")
	fs.Var(&o.redirects, "allowed-redirect", "an extra `URL` that a RelayState may send agents to; repeatable;\nreplaces the stored list")
	fs.Var(&o.idpInitiated, "idp-initiated", "what a login started in Salesforce (App Launcher) does: `MODE` bounce\n(default: samlflex starts its own login, which the Salesforce session\nanswers invisibly), refuse (only the login link works) or accept.\naccept is unsafe: any web page can then sign a victim in as the\nattacker (login CSRF); only for an IdP that cannot answer a login request")
	fs.Var(&o.allowIdPInitiated, "allow-idp-initiated", "older form of --idp-initiated: true is bounce, false is refuse")
	fs.Var(&o.defaultRoles, "default-roles", "`ROLES` for users whose assertion carries none, comma separated, for\nexample agent,supervisor; empty: such logins are refused")
	fs.Var(&o.clockSkew, "clock-skew", "allowed clock difference with the IdP, a `DURATION` such as 3m\n(default 3m, at most 15m)")
	fs.Var(&o.maxAuthnAge, "max-authn-age", "how old a response's IssueInstant and AuthnInstant may be, a `DURATION`\nsuch as 1h, plus the clock skew (default 1h, 1m to 24h); raise it for an\nIdP that puts the start of its session in AuthnInstant")
	fs.Var(&o.allowSHA1, "allow-sha1", "accept SHA-1 signatures, true or false. Unsafe: SHA-1 collisions are\npractical; only for an IdP that cannot sign with SHA-256")
	fs.Var(&o.signAuthn, "sign-authn-requests", "sign the login link's AuthnRequest, true or false; for an IdP with\n\"Verify Request Signatures\" on")
	fs.Var(&o.maxResponse, "max-response-bytes", "largest accepted SAMLResponse, `N` bytes before decoding (default 262144)")
	fs.Var(&o.ttl, "token-ttl", "lifetime of the session token, a `DURATION` such as 1h (default 1h, at most 24h)")
	fs.StringVar(&o.fullNameAttr, "full-name-attribute", "", "assertion `ATTRIBUTE` with the agent's full name (default full_name)")
	fs.StringVar(&o.rolesAttr, "roles-attribute", "", "assertion `ATTRIBUTE` with the agent's Flex roles (default roles)")
	fs.StringVar(&o.emailAttr, "email-attribute", "", "assertion `ATTRIBUTE` with the agent's e-mail (default email)")
	fs.Var(&o.expectVersion, "expect-version", "save only if the stored version is `N` (the \"version\" of get --output json);\n0 means create only")
	fs.StringVar(&o.baseURL, "base-url", getenv(config.EnvBaseURL), "public base `URL` of samlflex, to print the URLs for Salesforce\n(default $SAMLFLEX_BASE_URL)")
	fs.StringVar(&o.output, "output", "text", "`FORMAT` of the result: text or json")
	o.storage.register(fs, getenv)
	o.flex.register(fs, getenv)
	return fs, o
}

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
	if o.baseURL != "" {
		if err := checkBaseURL(o.baseURL); err != nil {
			return a.usageError(c, "--base-url %q: %s", o.baseURL, err)
		}
	}
	now := a.now()

	// Start from the stored account on update. An SID of the wrong shape
	// cannot be stored, so it is not looked up: validation reports it with
	// everything else.
	acct := samlflex.Account{AccountSID: o.sid}
	var expect int64
	certSources := []string{}
	var accounts store.Accounts
	if samlflex.ValidAccountSID(o.sid) {
		st, closeStore, err := o.storage.openAccounts(ctx, a.stderr)
		if err != nil {
			return a.failure(c, "%s", storeFailure(err))
		}
		defer func() { _ = closeStore() }()
		accounts = st
		stored, err := st.Get(ctx, o.sid)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return a.failure(c, "reading %s from %s: %s", o.sid, o.storage.describe(), storeFailure(err))
		default:
			acct, expect = stored, stored.Version
			for i := range stored.IdPCertificates {
				certSources = append(certSources, fmt.Sprintf("stored IdP certificate %d (replace the list with --idp-cert)", i+1))
			}
		}
	}
	created := expect == 0

	problems := o.apply(&acct, given, &certSources)
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
		unreadable := false
		for _, p := range problems {
			unreadable = unreadable || p.Field == "idp_certificates"
		}
		for _, fe := range ve.Problems {
			if fe.Field == "idp_certificates" && unreadable {
				// "At least one certificate is required" only repeats
				// that the file given could not be read.
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
		return a.failure(c, "internal error: no store opened for %q", o.sid)
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
			return a.failure(c, "%s was created by someone else while this command ran; nothing was saved. Run the command again to update it.", o.sid)
		}
		return a.failure(c, "%s was changed by someone else since it was read (version conflict); nothing was saved. Run the command again.", o.sid)
	case err != nil:
		return a.failure(c, "saving %s to %s: %s", o.sid, o.storage.describe(), storeFailure(err))
	}
	acct.Version, acct.UpdatedAt = version, now.UTC()

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

// apply changes acct by the flags given (and only those), reading
// certificate files. It returns the values that could not be read; range
// and shape checks are Validate's.
func (o *putOptions) apply(acct *samlflex.Account, given map[string]bool, certSources *[]string) []problem {
	var ps []problem
	bad := func(field, flagName, msg string) {
		ps = append(ps, problem{Field: field, Flag: flagName, Message: msg})
	}
	str := map[string]*string{
		"friendly-name": &acct.FriendlyName, "idp-issuer": &acct.IdPIssuer, "idp-sso-url": &acct.IdPSSOURL,
		"start-url": &acct.StartURL, "full-name-attribute": &acct.FullNameAttribute,
		"roles-attribute": &acct.RolesAttribute, "email-attribute": &acct.EmailAttribute,
	}
	src := map[string]string{
		"friendly-name": o.friendlyName, "idp-issuer": o.issuer, "idp-sso-url": o.ssoURL,
		"start-url": o.startURL, "full-name-attribute": o.fullNameAttr,
		"roles-attribute": o.rolesAttr, "email-attribute": o.emailAttr,
	}
	for name, dst := range str {
		if given[name] {
			*dst = strings.TrimSpace(src[name])
		}
	}
	if given["idp-cert"] {
		acct.IdPCertificates, *certSources = nil, nil
		for _, file := range o.certs {
			text, err := readCertFile(file)
			if err != nil {
				bad("idp_certificates", "--idp-cert "+file, err.Error())
				continue
			}
			// Saved as canonical PEM whatever was pasted; text that does
			// not parse is kept so that Validate names the problem.
			if pemText, err := samlflex.NormalizeCertificate(text); err == nil {
				text = pemText
			}
			acct.IdPCertificates = append(acct.IdPCertificates, text)
			*certSources = append(*certSources, "--idp-cert "+file)
		}
	}
	if given["allowed-redirect"] {
		acct.AllowedRedirects = nil
		for _, r := range o.redirects {
			acct.AllowedRedirects = append(acct.AllowedRedirects, strings.TrimSpace(r))
		}
	}
	boolFlag := func(name string, v *rawFlag, set func(bool)) {
		if !given[name] {
			return
		}
		b, err := strconv.ParseBool(v.value)
		if err != nil {
			bad(strings.ReplaceAll(name, "-", "_"), "--"+name, fmt.Sprintf("%q is not true or false", v.value))
			return
		}
		set(b)
	}
	// The older flag maps onto idp_initiated. allow_idp_initiated is kept
	// false for refuse, so that an older samlflex reading the account
	// still refuses; otherwise it is dropped.
	setIdPInitiated := func(m samlflex.IdPInitiatedMode) {
		acct.IdPInitiated, acct.AllowIdPInitiated = m, nil
		if m == samlflex.IdPInitiatedRefuse {
			off := false
			acct.AllowIdPInitiated = &off
		}
	}
	boolFlag("allow-idp-initiated", &o.allowIdPInitiated, func(b bool) {
		setIdPInitiated(map[bool]samlflex.IdPInitiatedMode{true: samlflex.IdPInitiatedBounce, false: samlflex.IdPInitiatedRefuse}[b])
	})
	if given["idp-initiated"] {
		m := samlflex.IdPInitiatedMode(strings.ToLower(strings.TrimSpace(o.idpInitiated.value)))
		switch {
		case m != samlflex.IdPInitiatedBounce && m != samlflex.IdPInitiatedAccept && m != samlflex.IdPInitiatedRefuse:
			bad("idp_initiated", "--idp-initiated", fmt.Sprintf("%q is not bounce, accept or refuse", o.idpInitiated.value))
		case given["allow-idp-initiated"] && acct.IdPInitiated != m:
			bad("idp_initiated", "--idp-initiated", "contradicts --allow-idp-initiated: give only --idp-initiated")
		default:
			setIdPInitiated(m)
		}
	}
	boolFlag("allow-sha1", &o.allowSHA1, func(b bool) { acct.AllowSHA1 = b })
	boolFlag("sign-authn-requests", &o.signAuthn, func(b bool) { acct.SignAuthnRequests = b })
	if given["default-roles"] {
		acct.DefaultRoles = nil
		for _, r := range strings.Split(o.defaultRoles.value, ",") {
			if r = strings.ToLower(strings.TrimSpace(r)); r != "" {
				acct.DefaultRoles = append(acct.DefaultRoles, r)
			}
		}
	}
	durFlag := func(name string, v *rawFlag, dst *samlflex.Duration) {
		if !given[name] {
			return
		}
		d, err := time.ParseDuration(strings.TrimSpace(v.value))
		if err != nil {
			bad(strings.ReplaceAll(name, "-", "_"), "--"+name, fmt.Sprintf("%q is not a duration: write it like 90s, 3m or 1h", v.value))
			return
		}
		*dst = samlflex.Duration(d)
	}
	durFlag("clock-skew", &o.clockSkew, &acct.ClockSkew)
	durFlag("token-ttl", &o.ttl, &acct.TokenTTL)
	durFlag("max-authn-age", &o.maxAuthnAge, &acct.MaxAuthnAge)
	if given["max-response-bytes"] {
		n, err := strconv.Atoi(strings.TrimSpace(o.maxResponse.value))
		if err != nil {
			bad("max_response_bytes", "--max-response-bytes", fmt.Sprintf("%q is not a whole number of bytes", o.maxResponse.value))
		} else {
			acct.MaxResponseBytes = n
		}
	}
	return ps
}

// maxCertFileBytes stops a mistaken --idp-cert (a disk image, a log) from
// being read whole; certificates are a few kilobytes.
const maxCertFileBytes = 1 << 20

func readCertFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the file: %v", errors.Unwrap(err))
	}
	if fi.IsDir() {
		return "", errors.New("is a directory, not a certificate file")
	}
	if fi.Size() > maxCertFileBytes {
		return "", fmt.Errorf("the file has %d bytes, too many for a certificate", fi.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the file: %v", errors.Unwrap(err))
	}
	return string(b), nil
}

// flagFor names, for a field that Validate reports, the flag (and for
// list entries, the file or value) that set it.
func flagFor(field string, acct samlflex.Account, certSources []string) string {
	var i int
	switch {
	case scanIndex(field, "idp_certificates[%d]", &i):
		if i < len(certSources) {
			return certSources[i]
		}
		return "--idp-cert"
	case field == "idp_certificates":
		return "--idp-cert"
	case scanIndex(field, "allowed_redirects[%d]", &i):
		if i < len(acct.AllowedRedirects) {
			return "--allowed-redirect " + acct.AllowedRedirects[i]
		}
		return "--allowed-redirect"
	case field == "flex.instance_sid":
		return "--flex-instance-sid"
	case field == "flex.api_key_sid":
		return "--flex-api-key-sid"
	case field == "flex.api_base_url":
		return "--flex-api-base-url"
	case field == "flex.delivery_url":
		return "--flex-delivery-url"
	}
	return "--" + strings.ReplaceAll(field, "_", "-")
}

func scanIndex(field, format string, i *int) bool {
	n, err := fmt.Sscanf(field, format, i)
	return err == nil && n == 1
}

// fieldOrder is the order of the settings in the setup guide; problems
// are printed in it (Validate checks some fields in map order).
func fieldRank(field string) int {
	order := []string{"account_sid", "friendly_name", "idp_certificates", "idp_issuer", "idp_sso_url",
		"start_url", "allowed_redirects", "idp_initiated", "allow_idp_initiated", "default_roles", "clock_skew", "allow_sha1",
		"sign_authn_requests", "max_response_bytes", "token_ttl", "full_name_attribute", "roles_attribute",
		"email_attribute", "flex", "version"}
	for i, f := range order {
		if field == f || strings.HasPrefix(field, f+"[") || strings.HasPrefix(field, f+".") {
			return i
		}
	}
	return len(order)
}

func sortProblems(ps []problem) {
	sort.SliceStable(ps, func(i, j int) bool { return fieldRank(ps[i].Field) < fieldRank(ps[j].Field) })
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
