package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/samlflex/samlflex/internal/config"
	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

const getAbout = `Shows the settings of one account and, with --base-url, the three values to
paste into the Salesforce connected app and give to agents: Entity Id, ACS
URL and the login link.`

const listAbout = `Lists the accounts with their IdP issuer and the nearest expiry of their IdP
certificates (renew a certificate in Salesforce before it expires, and save
it with "samlflex account put --idp-cert").`

const deleteAbout = `Deletes the settings of one account. It asks no question: agents of that
account can no longer sign in. It prints what it deleted.`

// showOptions are the flags of get, list and delete.
type showOptions struct {
	storage storageFlags
	sid     string
	baseURL string
	output  string
}

func newShowFlags(name string, getenv func(string) string, withSID, withOutput bool) (*flag.FlagSet, *showOptions) {
	o := &showOptions{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if withSID {
		fs.StringVar(&o.sid, "account-sid", "", "the Flex Account `SID`: AC followed by 32 hex digits")
	}
	if withOutput {
		fs.StringVar(&o.baseURL, "base-url", getenv(config.EnvBaseURL), "public base `URL` of samlflex (https://sso.example.com), to print the\nEntity Id, ACS URL and login link (default $SAMLFLEX_BASE_URL)")
		fs.StringVar(&o.output, "output", "text", "`FORMAT` of the result: text or json")
	}
	o.storage.register(fs, getenv)
	return fs, o
}

// prepare parses and checks the flags common to get, list and delete.
func (a *app) prepareShow(c command, fs *flag.FlagSet, o *showOptions, args []string, withSID bool) (int, bool) {
	if code, done := a.parseFlags(c, fs, args); done {
		return code, true
	}
	if err := o.storage.resolve(visited(fs)); err != nil {
		return a.usageError(c, "%v", err), true
	}
	if o.output != "" && o.output != "text" && o.output != "json" {
		return a.usageError(c, "--output must be text or json"), true
	}
	if withSID && !samlflex.ValidAccountSID(o.sid) {
		if o.sid == "" {
			return a.usageError(c, "--account-sid is required"), true
		}
		return a.usageError(c, "--account-sid %q is not an Account SID: AC followed by 32 lower-case hex digits", o.sid), true
	}
	if o.baseURL != "" {
		if err := checkBaseURL(o.baseURL); err != nil {
			return a.usageError(c, "--base-url %q: %s", o.baseURL, err), true
		}
	}
	return exitOK, false
}

func runGet(ctx context.Context, a *app, args []string) int {
	c, _ := findCommand("account get")
	fs, o := newShowFlags(c.name, a.getenv, true, true)
	if code, done := a.prepareShow(c, fs, o, args, true); done {
		return code
	}
	acct, code, ok := a.readAccount(ctx, c, o.storage, o.sid)
	if !ok {
		return code
	}
	if o.output == "json" {
		writeJSON(a.stdout, accountView(acct, o.baseURL))
		return exitOK
	}
	printAccount(a.stdout, acct, o.baseURL, a.now())
	return exitOK
}

// readAccount opens the selected store, reads one account and closes the
// store again (releasing the embedded store's lock). On failure it has
// printed the reason, and returns the exit code with ok false.
func (a *app) readAccount(ctx context.Context, c command, s storageFlags, sid string) (acct samlflex.Account, code int, ok bool) {
	st, closeStore, err := s.openAccounts(ctx, a.stderr)
	if err != nil {
		return acct, a.failure(c, "%s", storeFailure(err)), false
	}
	defer func() { _ = closeStore() }()
	acct, err = st.Get(ctx, sid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return acct, a.failure(c, "there is no account %s in %s. List the accounts with `samlflex account list`, or create it with `samlflex account put`.", sid, s.describe()), false
	case err != nil:
		return acct, a.failure(c, "reading %s from %s: %s", sid, s.describe(), storeFailure(err)), false
	}
	return acct, exitOK, true
}

func runList(ctx context.Context, a *app, args []string) int {
	c, _ := findCommand("account list")
	fs, o := newShowFlags(c.name, a.getenv, false, true)
	if code, done := a.prepareShow(c, fs, o, args, false); done {
		return code
	}
	st, closeStore, err := o.storage.openAccounts(ctx, a.stderr)
	if err != nil {
		return a.failure(c, "%s", storeFailure(err))
	}
	defer func() { _ = closeStore() }()
	accts, err := st.List(ctx)
	if err != nil {
		return a.failure(c, "listing %s: %s", o.storage.describe(), storeFailure(err))
	}
	if o.output == "json" {
		views := make([]accountJSON, 0, len(accts))
		for _, acct := range accts {
			views = append(views, accountView(acct, o.baseURL))
		}
		writeJSON(a.stdout, struct {
			Accounts []accountJSON `json:"accounts"`
		}{views})
		return exitOK
	}
	if len(accts) == 0 {
		fmt.Fprintf(a.stdout, "No accounts in %s yet. Create one with `samlflex account put` (see --help).\n", o.storage.describe())
		return exitOK
	}
	now := a.now()
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	head := "ACCOUNT SID\tFRIENDLY NAME\tIDP ISSUER\tIDP CERTIFICATE EXPIRES"
	if o.baseURL != "" {
		// With --base-url, as its help says: the login link (the other
		// URLs derive from it; `account get` prints them all).
		head += "\tLOGIN LINK"
	}
	fmt.Fprintln(tw, head)
	for _, acct := range accts {
		line := fmt.Sprintf("%s\t%s\t%s\t%s", acct.AccountSID, acct.FriendlyName, acct.IdPIssuer, nearestExpiry(acct, now))
		if o.baseURL != "" {
			if u, err := samlflex.URLsFor(o.baseURL, acct.AccountSID); err == nil {
				line += "\t" + u.Login
			}
		}
		fmt.Fprintln(tw, line)
	}
	_ = tw.Flush()
	return exitOK
}

func runDelete(ctx context.Context, a *app, args []string) int {
	c, _ := findCommand("account delete")
	fs, o := newShowFlags(c.name, a.getenv, true, false)
	if code, done := a.prepareShow(c, fs, o, args, true); done {
		return code
	}
	st, closeStore, err := o.storage.openAccounts(ctx, a.stderr)
	if err != nil {
		return a.failure(c, "%s", storeFailure(err))
	}
	defer func() { _ = closeStore() }()
	// Read first only to say what is deleted; the delete itself is
	// unconditional, as the command promises.
	acct, err := st.Get(ctx, o.sid)
	if err == nil {
		err = st.Delete(ctx, o.sid)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return a.failure(c, "there is no account %s in %s; nothing was deleted.", o.sid, o.storage.describe())
	case err != nil:
		return a.failure(c, "deleting %s from %s: %s", o.sid, o.storage.describe(), storeFailure(err))
	}
	fmt.Fprintf(a.stdout, "Deleted account %s (%s, IdP issuer %s) from %s.\n", acct.AccountSID, acct.FriendlyName, acct.IdPIssuer, o.storage.describe())
	return exitOK
}

// accountJSON is the stable JSON of get, list and put: the stored account
// (the same field names as the storage format) plus, with --base-url, the
// URLs to paste into Salesforce.
type accountJSON struct {
	samlflex.Account
	URLs *urlsJSON `json:"urls,omitempty"`
}

type urlsJSON struct {
	EntityID    string `json:"entity_id"`
	ACSURL      string `json:"acs_url"`
	LoginURL    string `json:"login_url"`
	MetadataURL string `json:"metadata_url"`
}

func accountView(acct samlflex.Account, baseURL string) accountJSON {
	v := accountJSON{Account: acct}
	if baseURL != "" {
		if u, err := samlflex.URLsFor(baseURL, acct.AccountSID); err == nil {
			v.URLs = &urlsJSON{EntityID: u.EntityID, ACSURL: u.ACS, LoginURL: u.Login, MetadataURL: u.Metadata}
		}
	}
	return v
}

// printAccount writes the human view of an account.
func printAccount(w io.Writer, acct samlflex.Account, baseURL string, now time.Time) {
	updated := ""
	if !acct.UpdatedAt.IsZero() {
		updated = ", updated " + acct.UpdatedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	fmt.Fprintf(w, "Account %s (version %d%s)\n\n", acct.AccountSID, acct.Version, updated)
	row := func(label, value string) { fmt.Fprintf(w, "  %-26s %s\n", label, value) }
	orDefault := func(set bool, value string) string {
		if set {
			return value
		}
		return value + " (default)"
	}
	row("Friendly name", acct.FriendlyName)
	row("IdP issuer", acct.IdPIssuer)
	row("IdP SSO URL", acct.IdPSSOURL)
	row("Start URL", acct.StartURL)
	if len(acct.AllowedRedirects) == 0 {
		row("Allowed redirects", "none")
	}
	for i, r := range acct.AllowedRedirects {
		label := ""
		if i == 0 {
			label = "Allowed redirects"
		}
		row(label, r)
	}
	idpInit := map[samlflex.IdPInitiatedMode]string{
		samlflex.IdPInitiatedBounce: "bounce (answered with a samlflex login request)",
		samlflex.IdPInitiatedAccept: "ACCEPTED directly (unsafe: login CSRF)",
		samlflex.IdPInitiatedRefuse: "refused (only the samlflex login link)",
	}[acct.IdPInitiatedEffective()]
	row("IdP-initiated logins", orDefault(acct.IdPInitiated != "" || acct.AllowIdPInitiated != nil, idpInit))
	if len(acct.DefaultRoles) == 0 {
		row("Default roles", "none: logins without roles are refused")
	} else {
		row("Default roles", strings.Join(acct.DefaultRoles, ","))
	}
	row("Clock skew", orDefault(acct.ClockSkew != 0, shortDuration(acct.Skew())))
	row("Max authentication age", orDefault(acct.MaxAuthnAge != 0, shortDuration(acct.AuthnAge())))
	row("SHA-1 signatures", map[bool]string{true: "ACCEPTED (unsafe)", false: "refused"}[acct.AllowSHA1])
	row("Sign AuthnRequests", map[bool]string{true: "yes", false: "no"}[acct.SignAuthnRequests])
	row("Max response size", orDefault(acct.MaxResponseBytes != 0, fmt.Sprintf("%d bytes", acct.MaxResponse())))
	row("Session token lifetime", orDefault(acct.TokenTTL != 0, shortDuration(acct.SessionTTL())))
	m := acct.Mapping()
	row("Attributes", fmt.Sprintf("full name: %s, roles: %s, email: %s", m.FullNameAttr, m.RolesAttr, m.EmailAttr))
	if f := acct.Flex; f != nil {
		row("Flex instance", f.InstanceSID+" (API key "+f.APIKeySID+")")
	}

	fmt.Fprintf(w, "\nIdP certificates\n")
	if len(acct.IdPCertificates) == 0 {
		fmt.Fprintf(w, "  none: save the certificate from Salesforce with --idp-cert\n")
	}
	for i, text := range acct.IdPCertificates {
		cert, err := samlflex.ParseCertificate(text)
		if err != nil {
			fmt.Fprintf(w, "  %d. unreadable: %v\n", i+1, err)
			continue
		}
		sum := sha256.Sum256(cert.Raw)
		fmt.Fprintf(w, "  %d. %s\n     %s\n     SHA-256 %s\n", i+1, cert.Subject.String(), expiryText(cert.NotAfter, now), hex.EncodeToString(sum[:]))
	}

	if baseURL == "" {
		fmt.Fprintf(w, "\nTo print the Entity Id, ACS URL and login link to paste into Salesforce, add\n--base-url with samlflex's public address (for example https://sso.example.com),\nor set SAMLFLEX_BASE_URL.\n")
		return
	}
	u, err := samlflex.URLsFor(baseURL, acct.AccountSID)
	if err != nil {
		fmt.Fprintf(w, "\nThe URLs cannot be derived: %s\n", samlflex.PublicOf(err))
		return
	}
	printChecklist(w, acct, u)
	fmt.Fprintf(w, "\nLogin link for agents\n  %s\n", u.Login)
}

// printChecklist is every value of the Salesforce connected app, in the
// order of its SAML settings screen, ready to paste (otherwise admins
// gather them from the guide).
func printChecklist(w io.Writer, acct samlflex.Account, u samlflex.URLs) {
	m := acct.Mapping()
	start := acct.StartURL
	if start == "" {
		start = "(set --start-url: the agent desktop)"
	}
	fmt.Fprintf(w, "\nPaste into the Salesforce connected app (Setup, App Manager, your app, SAML settings)\n")
	rows := [][2]string{
		{"Entity Id", u.EntityID},
		{"ACS URL", u.ACS},
		{"Start URL", start},
		{"Subject Type", "Username"},
		{"Name ID Format", "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"},
		{"Custom attribute", m.FullNameAttr + ` = $User.FirstName + " " + $User.LastName`},
		{"Custom attribute", m.RolesAttr + ` = "agent" (or "agent, supervisor, admin")`},
		{"Custom attribute", m.EmailAttr + " = $User.Email (optional)"},
		{"Profiles", "Manage Profiles: add the agents' profiles (else status_not_success)"},
		{"SP metadata", u.Metadata},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-17s %s\n", r[0], r[1])
	}
}

// shortDuration writes a duration as admins type it: 3m, 1h, 1h30m, 90s
// is 1m30s (time.Duration.String adds "0m0s" to 1h and "0s" to 3m).
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func expiryText(notAfter, now time.Time) string {
	day := notAfter.UTC().Format(time.DateOnly)
	if now.After(notAfter) {
		return "EXPIRED on " + day + ": create a new certificate in Salesforce and save it with --idp-cert"
	}
	days := int(notAfter.Sub(now).Hours() / 24)
	return fmt.Sprintf("expires %s (in %d days)", day, days)
}

// nearestExpiry is the earliest NotAfter of the account's certificates:
// during a rollover the old one expires first, and that is the date that
// matters.
func nearestExpiry(acct samlflex.Account, now time.Time) string {
	var nearest time.Time
	for _, text := range acct.IdPCertificates {
		cert, err := samlflex.ParseCertificate(text)
		if err != nil {
			return "unreadable certificate"
		}
		if nearest.IsZero() || cert.NotAfter.Before(nearest) {
			nearest = cert.NotAfter
		}
	}
	if nearest.IsZero() {
		return "no certificate"
	}
	day := nearest.UTC().Format(time.DateOnly)
	if now.After(nearest) {
		return "EXPIRED " + day
	}
	return fmt.Sprintf("%s (in %d days)", day, int(nearest.Sub(now).Hours()/24))
}
