package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// setting is one account setting of `account put`: the flag that sets it,
// its field (Validate's field name and the account's JSON key, a test
// checks both), its help, and how a given value changes the account. The
// table below is the one place that maps flags to fields: it registers
// the flags, orders the problems, names the flag of a problem and applies
// the values. Flex settings are a group of their own (flex.go), ranked
// where "flex" stands in the table.
type setting struct {
	field string
	flag  string // empty: no flag of its own (account_sid, flex, version)
	usage string
	kind  settingKind
	// set applies the flag's value (kinds text, bool, duration, int; for
	// kindList, each value joined by "\n"). It returns a problem message,
	// or "" when the value was applied.
	set func(p *putState, v string) string
}

type settingKind int

const (
	kindText settingKind = iota
	kindList             // repeatable; replaces the stored list
	kindBool             // bare --flag means true
	kindDuration
	kindInt
	kindNone // not set by a flag of this table
)

// putState is what the setters change: the account, and where each of its
// certificates came from (to name the file in a problem).
type putState struct {
	acct        *samlflex.Account
	certSources *[]string
	// given reports the flags on the command line (for the older
	// --allow-idp-initiated, which must agree with --idp-initiated).
	given map[string]bool
}

// accountSettings in the order of the setup guide: problems are printed in
// this order (Validate checks some fields in map order).
var accountSettings = []setting{
	{field: "account_sid", flag: "account-sid", kind: kindText,
		usage: "the Flex Account `SID`: AC followed by 32 hex digits (Twilio Console)"}, // selects the account
	{field: "friendly_name", flag: "friendly-name", kind: kindText,
		usage: "a `NAME` that tells admins which IdP this is, for example Salesforce",
		set:   text(func(a *samlflex.Account) *string { return &a.FriendlyName })},
	{field: "idp_certificates", flag: "idp-cert", kind: kindList,
		usage: "`FILE` holding the IdP signing certificate (PEM, with or without the\nBEGIN/END lines, any line endings, a UTF-8 BOM, or DER), or the PEM text\nitself; repeat it to trust two during a certificate rollover; replaces\nthe stored list"}, // set: setCerts, one problem per file
	{field: "idp_issuer", flag: "idp-issuer", kind: kindText,
		usage: "the Identity Provider Issuer `URL` (Salesforce: Setup, Identity Provider)",
		set:   text(func(a *samlflex.Account) *string { return &a.IdPIssuer })},
	{field: "idp_sso_url", flag: "idp-sso-url", kind: kindText,
		usage: "the Default Redirect `URL`: the IdP's SP-initiated HTTP-Redirect endpoint",
		set:   text(func(a *samlflex.Account) *string { return &a.IdPSSOURL })},
	{field: "start_url", flag: "start-url", kind: kindText,
		usage: "`URL` where agents land after signing in (the agent desktop)",
		set:   text(func(a *samlflex.Account) *string { return &a.StartURL })},
	{field: "allowed_redirects", flag: "allowed-redirect", kind: kindList,
		usage: "an extra `URL` that a RelayState may send agents to; repeatable;\nreplaces the stored list",
		set: func(p *putState, v string) string {
			p.acct.AllowedRedirects = nil
			for _, r := range strings.Split(v, "\n") {
				p.acct.AllowedRedirects = append(p.acct.AllowedRedirects, strings.TrimSpace(r))
			}
			return ""
		}},
	{field: "idp_initiated", flag: "idp-initiated", kind: kindText,
		usage: "what a login started in Salesforce (App Launcher) does: `MODE` bounce\n(default: samlflex starts its own login, which the Salesforce session\nanswers invisibly), refuse (only the login link works) or accept.\naccept is unsafe: any web page can then sign a victim in as the\nattacker (login CSRF); only for an IdP that cannot answer a login request",
		set:   setIdPInitiated},
	{field: "allow_idp_initiated", flag: "allow-idp-initiated", kind: kindBool,
		usage: "older form of --idp-initiated: true is bounce, false is refuse",
		set: boolean(func(a *samlflex.Account, b bool) {
			setIdPInitiatedMode(a, map[bool]samlflex.IdPInitiatedMode{true: samlflex.IdPInitiatedBounce, false: samlflex.IdPInitiatedRefuse}[b])
		})},
	{field: "default_roles", flag: "default-roles", kind: kindText,
		usage: "`ROLES` for users whose assertion carries none, comma separated, for\nexample agent,supervisor; empty: such logins are refused",
		set: func(p *putState, v string) string {
			p.acct.DefaultRoles = nil
			for _, r := range strings.Split(v, ",") {
				if r = strings.ToLower(strings.TrimSpace(r)); r != "" {
					p.acct.DefaultRoles = append(p.acct.DefaultRoles, r)
				}
			}
			return ""
		}},
	{field: "clock_skew", flag: "clock-skew", kind: kindDuration,
		usage: "allowed clock difference with the IdP, a `DURATION` such as 3m\n(default 3m, at most 15m)",
		set:   duration(func(a *samlflex.Account) *samlflex.Duration { return &a.ClockSkew })},
	{field: "max_authn_age", flag: "max-authn-age", kind: kindDuration,
		usage: "how old a response's IssueInstant and AuthnInstant may be, a `DURATION`\nsuch as 1h, plus the clock skew (default 1h, 1m to 24h); raise it for an\nIdP that puts the start of its session in AuthnInstant",
		set:   duration(func(a *samlflex.Account) *samlflex.Duration { return &a.MaxAuthnAge })},
	{field: "allow_sha1", flag: "allow-sha1", kind: kindBool,
		usage: "accept SHA-1 signatures, true or false. Unsafe: SHA-1 collisions are\npractical; only for an IdP that cannot sign with SHA-256",
		set:   boolean(func(a *samlflex.Account, b bool) { a.AllowSHA1 = b })},
	{field: "sign_authn_requests", flag: "sign-authn-requests", kind: kindBool,
		usage: "sign the login link's AuthnRequest, true or false; for an IdP with\n\"Verify Request Signatures\" on",
		set:   boolean(func(a *samlflex.Account, b bool) { a.SignAuthnRequests = b })},
	{field: "max_response_bytes", flag: "max-response-bytes", kind: kindInt,
		usage: "largest accepted SAMLResponse, `N` bytes before decoding (default 262144)",
		set: func(p *putState, v string) string {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Sprintf("%q is not a whole number of bytes", v)
			}
			p.acct.MaxResponseBytes = n
			return ""
		}},
	{field: "token_ttl", flag: "token-ttl", kind: kindDuration,
		usage: "lifetime of the session token, a `DURATION` such as 1h (default 1h, at most 24h)",
		set:   duration(func(a *samlflex.Account) *samlflex.Duration { return &a.TokenTTL })},
	{field: "full_name_attribute", flag: "full-name-attribute", kind: kindText,
		usage: "assertion `ATTRIBUTE` with the agent's full name (default full_name)",
		set:   text(func(a *samlflex.Account) *string { return &a.FullNameAttribute })},
	{field: "roles_attribute", flag: "roles-attribute", kind: kindText,
		usage: "assertion `ATTRIBUTE` with the agent's Flex roles (default roles)",
		set:   text(func(a *samlflex.Account) *string { return &a.RolesAttribute })},
	{field: "email_attribute", flag: "email-attribute", kind: kindText,
		usage: "assertion `ATTRIBUTE` with the agent's e-mail (default email)",
		set:   text(func(a *samlflex.Account) *string { return &a.EmailAttribute })},
	{field: "flex", kind: kindNone},    // flex.go: --flex-*
	{field: "version", kind: kindNone}, // --expect-version, checked in runPut
}

func text(field func(*samlflex.Account) *string) func(*putState, string) string {
	return func(p *putState, v string) string { *field(p.acct) = strings.TrimSpace(v); return "" }
}

func boolean(set func(*samlflex.Account, bool)) func(*putState, string) string {
	return func(p *putState, v string) string {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Sprintf("%q is not true or false", v)
		}
		set(p.acct, b)
		return ""
	}
}

func duration(field func(*samlflex.Account) *samlflex.Duration) func(*putState, string) string {
	return func(p *putState, v string) string {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return fmt.Sprintf("%q is not a duration: write it like 90s, 3m or 1h", v)
		}
		*field(p.acct) = samlflex.Duration(d)
		return ""
	}
}

// setIdPInitiatedMode sets the mode. allow_idp_initiated is kept false for
// refuse, so that an older samlflex reading the account still refuses;
// otherwise it is dropped.
func setIdPInitiatedMode(a *samlflex.Account, m samlflex.IdPInitiatedMode) {
	a.IdPInitiated, a.AllowIdPInitiated = m, nil
	if m == samlflex.IdPInitiatedRefuse {
		off := false
		a.AllowIdPInitiated = &off
	}
}

func setIdPInitiated(p *putState, v string) string {
	m := samlflex.IdPInitiatedMode(strings.ToLower(strings.TrimSpace(v)))
	switch {
	case m != samlflex.IdPInitiatedBounce && m != samlflex.IdPInitiatedAccept && m != samlflex.IdPInitiatedRefuse:
		return fmt.Sprintf("%q is not bounce, accept or refuse", v)
	case p.given["allow-idp-initiated"] && p.acct.IdPInitiated != m:
		return "contradicts --allow-idp-initiated: give only --idp-initiated"
	}
	setIdPInitiatedMode(p.acct, m)
	return ""
}

// settingValues holds the typed text of each setting's flag until it is
// applied: values are parsed after flag parsing, so that bad values are
// reported together with the validation problems.
type settingValues map[string]flag.Value

// registerSettings adds the table's flags to fs.
func registerSettings(fs *flag.FlagSet) settingValues {
	vals := settingValues{}
	for _, s := range accountSettings {
		if s.flag == "" {
			continue
		}
		var v flag.Value
		if s.kind == kindList {
			v = &listFlag{}
		} else {
			v = &rawFlag{isBool: s.kind == kindBool}
		}
		fs.Var(v, s.flag, s.usage)
		vals[s.flag] = v
	}
	return vals
}

// applySettings changes the account by the flags given, in table order,
// except that --idp-initiated comes after the older --allow-idp-initiated
// (it checks that both agree). account_sid is not applied: it selects the
// account.
func applySettings(vals settingValues, st *putState) []problem {
	var ps []problem
	apply := func(s setting) {
		if s.field == "idp_certificates" {
			// One problem per file, naming it.
			ps = append(ps, setCerts(*vals[s.flag].(*listFlag), st)...)
			return
		}
		v := vals[s.flag].String()
		if l, ok := vals[s.flag].(*listFlag); ok {
			v = strings.Join(*l, "\n")
		}
		if msg := s.set(st, v); msg != "" {
			ps = append(ps, problem{Field: s.field, Flag: "--" + s.flag, Message: msg})
		}
	}
	var last *setting
	for i, s := range accountSettings {
		switch {
		case s.flag == "" || s.flag == "account-sid" || !st.given[s.flag]:
		case s.flag == "idp-initiated":
			last = &accountSettings[i]
		default:
			apply(s)
		}
	}
	if last != nil {
		apply(*last)
	}
	return ps
}

// setCerts replaces the account's certificates with those given, reading
// files (or PEM text), and returns what could not be read.
func setCerts(args []string, p *putState) []problem {
	var ps []problem
	p.acct.IdPCertificates, *p.certSources = nil, nil
	for _, arg := range args {
		pemText, source, err := readCertArg(arg)
		if err != nil {
			ps = append(ps, problem{Field: "idp_certificates", Flag: "--idp-cert " + source, Message: err.Error()})
			continue
		}
		p.acct.IdPCertificates = append(p.acct.IdPCertificates, pemText)
		*p.certSources = append(*p.certSources, "--idp-cert "+source)
	}
	return ps
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
	case scanIndex(field, "allowed_redirects[%d]", &i):
		if i < len(acct.AllowedRedirects) {
			return "--allowed-redirect " + acct.AllowedRedirects[i]
		}
		return "--allowed-redirect"
	}
	if sub, ok := strings.CutPrefix(field, "flex."); ok {
		// flex.instance_sid is --flex-instance-sid, and so on (flex.go).
		return "--flex-" + strings.ReplaceAll(sub, "_", "-")
	}
	for _, s := range accountSettings {
		if s.field == field && s.flag != "" {
			return "--" + s.flag
		}
	}
	return "--" + strings.ReplaceAll(field, "_", "-")
}

func scanIndex(field, format string, i *int) bool {
	n, err := fmt.Sscanf(field, format, i)
	return err == nil && n == 1
}

// fieldRank is a field's place in accountSettings: problems are printed
// in the order of the setup guide.
func fieldRank(field string) int {
	for i, s := range accountSettings {
		if field == s.field || strings.HasPrefix(field, s.field+"[") || strings.HasPrefix(field, s.field+".") {
			return i
		}
	}
	return len(accountSettings)
}
