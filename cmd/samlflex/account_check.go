package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/samlflex/samlflex/internal/config"
	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

const checkAbout = `Runs the whole verification of a login, offline, on a captured SAMLResponse:
the form value (base64, URL-encoded or not), the decoded XML, or - for
stdin. It prints every check with the value samlflex expected and the value
the response carried, and, when the response is accepted, the Flex identity
(identity, name, e-mail, roles). Nothing is stored and no assertion is
marked used: the same capture can be checked again after a fix.

The settings are the stored account's. Settings flags (the same as
` + "`account put`" + `) change them for this check only; with settings flags and
no stored account (or no store at all) the check runs on the flags alone.
--at pins the clock to the capture's time; then an IdP certificate that has
expired since is still used, as it was valid at that time.

Capture a response: in the browser's developer tools (Network, the POST to
the ACS URL, Payload), copy the SAMLResponse value into a file.

Exit codes: 0 accepted, 1 refused, 2 usage (bad flags or settings, no such
account, an unreadable response).`

// maxCaptureBytes bounds what is read from --response: far above any
// account's max_response_bytes (the verifier applies that one), small
// enough that a wrong file (a disk image) is not read whole.
const maxCaptureBytes = 16 << 20

// checkOptions are the flags of `account check`.
type checkOptions struct {
	storage   storageFlags
	response  string
	at        string
	requestID string
	baseURL   string
	output    string
	settings  settingValues
	metadata  metadataFlags
}

func newCheckFlags(getenv func(string) string) (*flag.FlagSet, *checkOptions) {
	o := &checkOptions{}
	fs := flag.NewFlagSet("account check", flag.ContinueOnError)
	fs.StringVar(&o.response, "response", "", "`FILE` holding the captured SAMLResponse (form value or XML), or - for stdin")
	fs.StringVar(&o.at, "at", "", "check as of this `TIME` (RFC 3339, for example 2026-01-15T10:00:10Z)\ninstead of now: the capture's time")
	fs.StringVar(&o.requestID, "request-id", "", "the `ID` of the AuthnRequest the capture answers (SP-initiated login:\nthe InResponseTo that samlflex's login cookie would have named)")
	fs.StringVar(&o.baseURL, "base-url", getenv(config.EnvBaseURL), "public base `URL` of samlflex: the Entity Id and ACS URL derive from it\n(default $SAMLFLEX_BASE_URL)")
	fs.StringVar(&o.output, "output", "text", "`FORMAT` of the result: text or json")
	o.settings = registerSettings(fs)
	o.metadata.register(fs)
	o.storage.register(fs, getenv)
	return fs, o
}

// checkRelevant are the fields whose problems stop a check: the others
// (start URL, Flex connection, ...) play no part in verifying a response,
// and an admin checking a capture need not give them.
var checkRelevant = map[string]bool{
	"account_sid": true, "idp_certificates": true, "idp_issuer": true, "idp_initiated": true,
	"default_roles": true, "clock_skew": true, "max_authn_age": true, "max_response_bytes": true,
	"full_name_attribute": true, "roles_attribute": true, "email_attribute": true,
}

func runCheck(ctx context.Context, a *app, args []string) int {
	c, _ := findCommand("account check")
	fs, o := newCheckFlags(a.getenv)
	if code, done := a.parseFlags(c, fs, args); done {
		return code
	}
	given := visited(fs)
	if err := o.storage.resolve(given); err != nil {
		return a.usageError(c, "%v", err)
	}
	sid := o.settings["account-sid"].String()
	switch {
	case o.output != "text" && o.output != "json":
		return a.usageError(c, "--output must be text or json")
	case sid == "":
		return a.usageError(c, "--account-sid is required")
	case !samlflex.ValidAccountSID(sid):
		return a.usageError(c, "--account-sid %q is not an Account SID: AC followed by 32 lower-case hex digits", sid)
	case o.response == "":
		return a.usageError(c, "--response is required: a file with the captured SAMLResponse, or - for stdin")
	case o.baseURL == "":
		return a.usageError(c, "--base-url is required (or $SAMLFLEX_BASE_URL): the Entity Id and ACS URL derive from it")
	}
	if err := checkBaseURL(o.baseURL); err != nil {
		return a.usageError(c, "--base-url %q: %s", o.baseURL, err)
	}
	if err := o.metadata.check(given); err != nil {
		return a.usageError(c, "%v", err)
	}
	at := a.now()
	if o.at != "" {
		t, err := time.Parse(time.RFC3339Nano, o.at)
		if err != nil {
			return a.usageError(c, "--at %q is not an RFC 3339 time such as 2026-01-15T10:00:10Z", o.at)
		}
		at = t
	}
	stdin := a.stdin
	if stdin == nil {
		stdin = os.Stdin
	}
	encoded, err := readCapture(o.response, stdin)
	if err != nil {
		return a.usageError(c, "--response %s: %v", o.response, err)
	}

	acct, code, ok := a.checkAccount(ctx, c, o, sid, given, at)
	if !ok {
		return code
	}
	now := func() time.Time { return at }
	v, err := samlflex.NewVerifier(samlflex.VerifierConfig{Account: acct, BaseURL: o.baseURL, Now: now})
	if err != nil {
		return a.usageError(c, "the settings cannot verify a response: %s", samlflex.PublicOf(err))
	}
	out := checkResponse(v, &acct, encoded, o.requestID)
	out.AccountSID, out.At = acct.AccountSID, at.UTC().Format(time.RFC3339)
	if o.output == "json" {
		writeJSON(a.stdout, out)
	} else {
		printCheck(a.stdout, out)
	}
	if !out.Accepted {
		return exitFailure
	}
	return exitOK
}

// checkAccount builds the settings to check against: the stored account
// (when there is a store to read) changed by the settings flags given.
func (a *app) checkAccount(ctx context.Context, c command, o *checkOptions, sid string, given map[string]bool, at time.Time) (samlflex.Account, int, bool) {
	withSettings := given["idp-metadata"]
	for _, s := range accountSettings {
		withSettings = withSettings || (s.flag != "" && s.flag != "account-sid" && given[s.flag])
	}
	acct := samlflex.Account{AccountSID: sid}
	certSources := []string{}
	// Settings alone need no store: the default data directory is only
	// opened when it exists, so a check never creates one.
	readStore := !withSettings || given["data"] || o.storage.table != "" ||
		exists(filepath.Join(o.storage.data, storeFileName)) || exists(filepath.Join(o.storage.data, boltFileName))
	if readStore {
		st, closeStore, err := o.storage.openAccounts(ctx, a.stderr)
		if err != nil {
			return acct, a.failure(c, "%s", storeFailure(err)), false
		}
		stored, err := st.Get(ctx, sid)
		_ = closeStore()
		switch {
		case errors.Is(err, store.ErrNotFound) && withSettings:
		case errors.Is(err, store.ErrNotFound):
			return acct, a.usageError(c, "there is no account %s in %s: give its settings with the flags of `account put`, or point --data or --dynamodb-table at its store", sid, o.storage.describe()), false
		case err != nil:
			return acct, a.failure(c, "reading %s from %s: %s", sid, o.storage.describe(), storeFailure(err)), false
		default:
			acct = stored
			for i := range stored.IdPCertificates {
				certSources = append(certSources, fmt.Sprintf("stored IdP certificate %d (replace the list with --idp-cert)", i+1))
			}
		}
	}
	problems := applySettings(o.settings, &putState{acct: &acct, certSources: &certSources, given: given})
	if given["idp-metadata"] {
		// As of --at: metadata whose validUntil has passed since the
		// capture still describes the IdP that signed it.
		ps, _ := o.metadata.apply(ctx, at, &acct, &certSources)
		problems = append(problems, ps...)
	}
	// Validated as of --at: a certificate that has expired since the
	// capture was valid when it was signed.
	if err := acct.Validate(at); err != nil {
		var ve *samlflex.ValidationError
		if !errors.As(err, &ve) {
			return acct, a.failure(c, "%v", err), false
		}
		for _, fe := range ve.Problems {
			if checkRelevant[strings.SplitN(strings.SplitN(fe.Field, "[", 2)[0], ".", 2)[0]] {
				problems = append(problems, problem{Field: fe.Field, Flag: flagFor(fe.Field, acct, certSources), Message: fe.Message})
			}
		}
	}
	if len(problems) > 0 {
		sortProblems(problems)
		fmt.Fprintf(a.stderr, "samlflex account check: nothing was checked; fix these settings and run again:\n")
		for _, p := range problems {
			fmt.Fprintf(a.stderr, "  %s: %s\n", p.Flag, p.Message)
		}
		return acct, exitUsage, false
	}
	return acct, exitOK, true
}

// readCapture reads --response and returns the base64 form value the ACS
// would receive: a form value as copied from the browser (URL-encoded or
// not, with or without "SAMLResponse="), or the decoded XML.
func readCapture(name string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer func() { _ = f.Close() }()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxCaptureBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxCaptureBytes {
		return nil, fmt.Errorf("is larger than %d MB: not a SAMLResponse", maxCaptureBytes>>20)
	}
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	if len(b) == 0 {
		return nil, errors.New("is empty")
	}
	if b[0] == '<' {
		return []byte(base64.StdEncoding.EncodeToString(b)), nil
	}
	b = bytes.TrimPrefix(b, []byte("SAMLResponse="))
	if bytes.ContainsRune(b, '%') {
		s, err := url.QueryUnescape(string(b))
		if err != nil {
			return nil, fmt.Errorf("is neither XML nor a form value: %v", err)
		}
		b = []byte(s)
	}
	return b, nil
}

// checkOutcome is the result of `account check`, as JSON and as text.
type checkOutcome struct {
	AccountSID string `json:"account_sid"`
	At         string `json:"at"`
	Accepted   bool   `json:"accepted"`
	// Code and Message are the refusal's primary code (X-Samlflex-Error)
	// and the sentence the error page would show.
	Code     samlflex.Code    `json:"code,omitempty"`
	Message  string           `json:"message,omitempty"`
	EntityID string           `json:"entity_id"`
	ACSURL   string           `json:"acs_url"`
	Checks   []samlflex.Check `json:"checks"`
	Identity *checkIdentity   `json:"identity,omitempty"`
}

// checkIdentity is the Flex identity an accepted response signs in as.
type checkIdentity struct {
	Identity       string   `json:"identity"`
	Name           string   `json:"name"`
	Email          string   `json:"email"`
	Roles          []string `json:"roles"`
	RolesDefaulted bool     `json:"roles_defaulted,omitempty"`
}

// checkResponse runs Verify and Map as the ACS does (without the one-time
// use record, and without the login cookie: --request-id stands for it),
// with the same decision trace.
func checkResponse(v *samlflex.Verifier, acct *samlflex.Account, encoded []byte, requestID string) checkOutcome {
	urls := v.URLs()
	out := checkOutcome{EntityID: urls.EntityID, ACSURL: urls.ACS}
	a, trace, err := v.VerifyTrace(encoded, samlflex.Expect{RequestID: requestID})
	trace.CheckMapping(acct.Mapping())
	if err == nil {
		var id samlflex.FlexIdentity
		if id, err = samlflex.Map(a, acct.Mapping()); err == nil {
			out.Accepted = true
			out.Identity = &checkIdentity{Identity: id.Identity, Name: id.FullName, Email: id.Email, Roles: id.Roles, RolesDefaulted: id.RolesDefaulted}
		}
	}
	if err != nil {
		out.Code, out.Message = samlflex.CodeOf(err), samlflex.PublicOf(err)
	}
	out.Checks = trace.Checks
	if out.Checks == nil {
		out.Checks = []samlflex.Check{}
	}
	return out
}

func printCheck(w io.Writer, o checkOutcome) {
	verdict := "ACCEPTED"
	if !o.Accepted {
		verdict = "REFUSED (" + string(o.Code) + ")"
	}
	fmt.Fprintf(w, "Response check for %s as of %s: %s\n", o.AccountSID, o.At, verdict)
	fmt.Fprintf(w, "  Entity Id: %s\n  ACS URL:   %s\n", o.EntityID, o.ACSURL)
	if o.Message != "" {
		fmt.Fprintf(w, "\n%s\n", o.Message)
	}
	fmt.Fprintln(w)
	failed := 0
	for _, c := range o.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(w, "%s %s", mark, c.Name)
		if c.Code != "" {
			fmt.Fprintf(w, " (%s)", c.Code)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "       expected: %s\n       received: %s\n", c.Expected, c.Received)
		if c.Note != "" {
			fmt.Fprintf(w, "       note:     %s\n", c.Note)
		}
		if c.Message != "" {
			fmt.Fprintf(w, "       message:  %s\n", c.Message)
		}
		if !c.OK {
			fmt.Fprintf(w, "       fix:      %s\n", c.Setting)
		}
	}
	if len(o.Checks) == 0 {
		fmt.Fprintln(w, "The response could not be read far enough to check anything: see the message above.")
	}
	if failed > 1 {
		fmt.Fprintf(w, "\n%d checks failed; the first one is the error code a login shows.\n", failed)
	}
	if id := o.Identity; id != nil {
		roles := strings.Join(id.Roles, ", ")
		if id.RolesDefaulted {
			roles += " (the account's default roles)"
		}
		fmt.Fprintf(w, "\nFlex identity:\n  identity: %s\n  name:     %s\n  email:    %s\n  roles:    %s\n", id.Identity, id.Name, id.Email, roles)
	}
}
