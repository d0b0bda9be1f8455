package samlflex

import (
	"cmp"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Defaults of the account settings that an admin may leave empty.
const (
	DefaultClockSkew        = 3 * time.Minute
	DefaultMaxResponseBytes = 256 << 10
	// LargestMaxResponseBytes is the highest max_response_bytes an account
	// may set; the Lambda functions size their body cap from it.
	LargestMaxResponseBytes = 4 << 20
	DefaultTokenTTL         = time.Hour
	DefaultFullNameAttr     = "full_name"
	DefaultRolesAttr        = "roles"
	DefaultEmailAttr        = "email"
	// MaxIdPCertificates bounds the trusted certificates of an account: a
	// response without KeyInfo is verified against each in turn, so 300
	// certificates imported from metadata made a forged response cost
	// 300 RSA verifications. A rollover needs two.
	MaxIdPCertificates = 8
	// MaxClockSkew bounds the skew setting: a longer window would make
	// captured assertions useful to an attacker for too long.
	MaxClockSkew = 15 * time.Minute
	// DefaultMaxAuthnAge bounds how old a response's IssueInstant (Response
	// and Assertion) and AuthnInstant may be. Salesforce stamps all three
	// when it answers (the 2017 capture: within 2 ms) and its assertions
	// last 5 minutes, so an hour is twelve times what it needs, while an
	// IdP-signed assertion issued years ago with far-off conditions is
	// refused. IdPs that put the start of the IdP session in AuthnInstant
	// (ADFS, Okta) need it raised, up to MaxMaxAuthnAge.
	DefaultMaxAuthnAge = time.Hour
	// MinMaxAuthnAge and MaxMaxAuthnAge bound the setting: below a minute a
	// slow browser post fails; above 24 hours (Salesforce's longest
	// session) the bound stops meaning anything.
	MinMaxAuthnAge = time.Minute
	MaxMaxAuthnAge = 24 * time.Hour
)

var accountSIDPattern = regexp.MustCompile(`^AC[0-9a-f]{32}$`)

// ValidAccountSID reports whether sid has the Twilio Account SID shape
// (AC followed by 32 lower-case hex digits).
func ValidAccountSID(sid string) bool { return accountSIDPattern.MatchString(sid) }

// Account is the configuration of one Flex account: the settings that the
// setup guide has an admin save on the Flex side, plus samlflex's options.
// It is stored as JSON; field names are part of the storage format.
type Account struct {
	AccountSID   string `json:"account_sid"`
	FriendlyName string `json:"friendly_name"`
	// IdPCertificates are the trusted IdP signing certificates, as PEM. More
	// than one lets an IdP certificate roll over without downtime.
	IdPCertificates []string `json:"idp_certificates"`
	// IdPIssuer is the "Identity Provider Issuer" of the setup guide.
	IdPIssuer string `json:"idp_issuer"`
	// IdPSSOURL is the "Default Redirect URL": the IdP's SSO endpoint.
	IdPSSOURL string `json:"idp_sso_url"`
	// StartURL is where the agent lands after a login (the agent desktop).
	StartURL string `json:"start_url"`
	// AllowedRedirects are extra absolute URLs that a RelayState may name.
	// A RelayState that is not the start URL or one of these is ignored.
	AllowedRedirects []string `json:"allowed_redirects,omitempty"`
	// AllowIdPInitiated accepts unsolicited responses (no AuthnRequest from
	// samlflex). Salesforce's App Launcher starts logins this way, so it is
	// on by default. Turning it off means only the login link works, which
	// also closes login CSRF (an attacker's own response posted into a
	// victim's browser).
	AllowIdPInitiated *bool `json:"allow_idp_initiated,omitempty"`
	// IdPInitiated says what an unsolicited response (no AuthnRequest from
	// samlflex, as Salesforce's App Launcher sends) does: "bounce" (the
	// default) starts a fresh SP-initiated login, so the token always
	// answers a login this browser started; "accept" logs in directly;
	// "refuse" shows unsolicited_not_allowed. "accept" is unsafe: it opens
	// login CSRF, where a page auto-posts the attacker's own valid response
	// into a victim's browser and the victim works as the attacker. Use it
	// only for an IdP that cannot answer an AuthnRequest. Empty: derived
	// from AllowIdPInitiated (false: refuse; unset or true: bounce).
	IdPInitiated IdPInitiatedMode `json:"idp_initiated,omitempty"`
	// DefaultRoles apply when the IdP sends no roles; empty means reject.
	DefaultRoles []string `json:"default_roles,omitempty"`
	// ClockSkew is the allowed difference between our clock and the IdP's.
	ClockSkew Duration `json:"clock_skew,omitempty"`
	// MaxAuthnAge is how old IssueInstant and AuthnInstant may be (plus
	// the skew); 0 means DefaultMaxAuthnAge.
	MaxAuthnAge Duration `json:"max_authn_age,omitempty"`
	// AllowSHA1 accepts RSA-SHA1/SHA-1 digests. Unsafe: SHA-1 collisions are
	// practical. Only for IdPs that cannot sign with SHA-256.
	AllowSHA1 bool `json:"allow_sha1,omitempty"`
	// SignAuthnRequests signs the login link's AuthnRequest with the SP key,
	// for IdPs with "Verify Request Signatures" on.
	SignAuthnRequests bool `json:"sign_authn_requests,omitempty"`
	// MaxResponseBytes caps the base64 SAMLResponse before decoding.
	MaxResponseBytes int `json:"max_response_bytes,omitempty"`
	// TokenTTL is the lifetime of the session token issued after a login.
	TokenTTL Duration `json:"token_ttl,omitempty"`
	// Attribute names in the assertion.
	FullNameAttribute string `json:"full_name_attribute,omitempty"`
	RolesAttribute    string `json:"roles_attribute,omitempty"`
	EmailAttribute    string `json:"email_attribute,omitempty"`
	// Flex is the optional connection to Twilio Flex (see the flex package).
	Flex *FlexConnection `json:"flex,omitempty"`
	// Version is the optimistic-concurrency version kept by the store.
	Version int64 `json:"version"`
	// UpdatedAt is set by the store on every put.
	UpdatedAt time.Time `json:"updated_at,omitempty"`
}

// FlexConnection names the Flex instance that logins provision users in.
// The API key secret is not here: it lives in the key/secret store.
type FlexConnection struct {
	InstanceSID string `json:"instance_sid"`
	APIKeySID   string `json:"api_key_sid"`
	APIBaseURL  string `json:"api_base_url,omitempty"`
	// DeliveryURL is the Flex UI or Flex SDK app that receives the token.
	DeliveryURL string `json:"delivery_url,omitempty"`
}

// Duration is a time.Duration that reads and writes "3m0s" in JSON.
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// IdPInitiatedMode is the IdPInitiated setting.
type IdPInitiatedMode string

// The IdPInitiated values.
const (
	IdPInitiatedBounce IdPInitiatedMode = "bounce"
	IdPInitiatedAccept IdPInitiatedMode = "accept"
	IdPInitiatedRefuse IdPInitiatedMode = "refuse"
)

// IdPInitiatedEffective returns the effective IdPInitiated mode. Accounts
// stored before the setting existed have only allow_idp_initiated, whose
// "true" (the old default) becomes bounce, not accept: nobody chose
// direct acceptance knowing it opens login CSRF.
func (a *Account) IdPInitiatedEffective() IdPInitiatedMode {
	switch {
	case a.IdPInitiated != "":
		return a.IdPInitiated
	case a.AllowIdPInitiated != nil && !*a.AllowIdPInitiated:
		return IdPInitiatedRefuse
	default:
		return IdPInitiatedBounce
	}
}

// IdPInitiatedAllowed reports whether the verifier may accept an
// unsolicited response at all (bounce or accept); the caller decides what
// a verified unsolicited response leads to.
func (a *Account) IdPInitiatedAllowed() bool {
	return a.IdPInitiatedEffective() != IdPInitiatedRefuse
}

// Clone returns a deep copy of a: the copy shares no slice and no
// pointer with a, so either can be changed without touching the other.
func (a *Account) Clone() Account {
	c := *a
	c.IdPCertificates = slices.Clone(a.IdPCertificates)
	c.AllowedRedirects = slices.Clone(a.AllowedRedirects)
	c.DefaultRoles = slices.Clone(a.DefaultRoles)
	if a.AllowIdPInitiated != nil {
		v := *a.AllowIdPInitiated
		c.AllowIdPInitiated = &v
	}
	if a.Flex != nil {
		f := *a.Flex
		c.Flex = &f
	}
	return c
}

// Skew returns the effective allowed clock skew, at most MaxClockSkew even
// for an account stored without Validate (edited by hand): the one-time-use
// records are kept for the largest skew, and must outlive acceptance.
func (a *Account) Skew() time.Duration {
	if a.ClockSkew == 0 {
		return DefaultClockSkew
	}
	return min(time.Duration(a.ClockSkew), MaxClockSkew)
}

// AuthnAge returns the effective maximum age of IssueInstant and
// AuthnInstant, at most MaxMaxAuthnAge (see Skew).
func (a *Account) AuthnAge() time.Duration {
	if a.MaxAuthnAge == 0 {
		return DefaultMaxAuthnAge
	}
	return min(time.Duration(a.MaxAuthnAge), MaxMaxAuthnAge)
}

// MaxResponse returns the effective cap on the encoded response.
func (a *Account) MaxResponse() int {
	if a.MaxResponseBytes <= 0 {
		return DefaultMaxResponseBytes
	}
	return a.MaxResponseBytes
}

// SessionTTL returns the effective session-token lifetime.
func (a *Account) SessionTTL() time.Duration {
	if a.TokenTTL == 0 {
		return DefaultTokenTTL
	}
	return time.Duration(a.TokenTTL)
}

// Mapping returns the attribute mapping of the account.
func (a *Account) Mapping() Mapping {
	m := Mapping{
		FullNameAttr: a.FullNameAttribute,
		RolesAttr:    a.RolesAttribute,
		EmailAttr:    a.EmailAttribute,
		DefaultRoles: a.DefaultRoles,
	}
	if m.FullNameAttr == "" {
		m.FullNameAttr = DefaultFullNameAttr
	}
	if m.RolesAttr == "" {
		m.RolesAttr = DefaultRolesAttr
	}
	if m.EmailAttr == "" {
		m.EmailAttr = DefaultEmailAttr
	}
	return m
}

// FieldError is one problem with one setting.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (f FieldError) String() string { return f.Field + ": " + f.Message }

// ValidationError lists every problem found by Validate.
type ValidationError struct {
	Problems []FieldError
}

func (v *ValidationError) Error() string {
	parts := make([]string, len(v.Problems))
	for i, p := range v.Problems {
		parts[i] = p.String()
	}
	return "invalid account settings: " + strings.Join(parts, "; ")
}

// Validate checks every setting and returns a *ValidationError naming every
// problem at once (an admin fixing a form wants all of them, not the first),
// or nil. now is used to flag IdP certificates that have already expired.
func (a *Account) Validate(now time.Time) error {
	var p []FieldError
	add := func(field, format string, args ...any) {
		p = append(p, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if !ValidAccountSID(a.AccountSID) {
		add("account_sid", "must be the Flex Account SID: AC followed by 32 lower-case hex digits, as shown in the Twilio Console")
	}
	if strings.TrimSpace(a.FriendlyName) == "" {
		add("friendly_name", "is required: a name that tells admins which IdP this is, for example \"Salesforce\"")
	}
	if len(a.IdPCertificates) == 0 {
		add("idp_certificates", "at least one IdP certificate is required: download it in Salesforce under Setup, Identity Provider, Download Certificate")
	}
	if len(a.IdPCertificates) > MaxIdPCertificates {
		add("idp_certificates", "at most %d IdP certificates: keep the one in use and the one it rolls over to (a response without KeyInfo is checked against each, so every one costs a signature check)", MaxIdPCertificates)
	}
	for i, c := range a.IdPCertificates {
		cert, err := ParseCertificate(c)
		if err != nil {
			add(fmt.Sprintf("idp_certificates[%d]", i), "%v", err)
			continue
		}
		if !now.IsZero() && now.After(cert.NotAfter) {
			add(fmt.Sprintf("idp_certificates[%d]", i), "expired on %s: create a new certificate in Salesforce and save it here", cert.NotAfter.UTC().Format(time.DateOnly))
		}
	}
	if strings.TrimSpace(a.IdPIssuer) == "" {
		add("idp_issuer", "is required: the Issuer shown in Salesforce under Setup, Identity Provider (for example https://yourdomain.my.salesforce.com)")
	}
	if msg := checkURL(a.IdPSSOURL, true); msg != "" {
		add("idp_sso_url", "%s: use the Salesforce SP-initiated redirect endpoint, for example https://yourdomain.my.salesforce.com/idp/endpoint/HttpRedirect", msg)
	}
	if msg := checkURL(a.StartURL, true); msg != "" {
		add("start_url", "%s: use the address of the agent desktop, for example https://flex.twilio.com/agent-desktop", msg)
	}
	for i, r := range a.AllowedRedirects {
		if msg := checkURL(r, true); msg != "" {
			add(fmt.Sprintf("allowed_redirects[%d]", i), "%s", msg)
		}
	}
	switch a.IdPInitiated {
	case "", IdPInitiatedBounce, IdPInitiatedAccept, IdPInitiatedRefuse:
	default:
		add("idp_initiated", "must be bounce (the default), accept or refuse")
	}
	if a.IdPInitiated != "" && a.IdPInitiated != IdPInitiatedRefuse && a.AllowIdPInitiated != nil && !*a.AllowIdPInitiated {
		add("idp_initiated", "is %s but the older allow_idp_initiated is false: set only idp_initiated", a.IdPInitiated)
	}
	for _, r := range a.DefaultRoles {
		if !KnownRole(r) {
			add("default_roles", "%q is not a Flex role: use agent, supervisor, admin or a Flex Insights wfo.* role", r)
		}
	}
	if a.ClockSkew < 0 || time.Duration(a.ClockSkew) > MaxClockSkew {
		add("clock_skew", "must be between 0 and %s (default %s)", MaxClockSkew, DefaultClockSkew)
	}
	if a.MaxAuthnAge != 0 && (time.Duration(a.MaxAuthnAge) < MinMaxAuthnAge || time.Duration(a.MaxAuthnAge) > MaxMaxAuthnAge) {
		add("max_authn_age", "must be 0 (default %s) or between %s and %s", DefaultMaxAuthnAge, MinMaxAuthnAge, MaxMaxAuthnAge)
	}
	if a.MaxResponseBytes < 0 || a.MaxResponseBytes > LargestMaxResponseBytes {
		add("max_response_bytes", "must be between 0 (default %d) and %d", DefaultMaxResponseBytes, LargestMaxResponseBytes)
	}
	if a.TokenTTL < 0 || time.Duration(a.TokenTTL) > 24*time.Hour {
		add("token_ttl", "must be between 0 (default %s) and 24h", DefaultTokenTTL)
	}
	for field, v := range map[string]string{"full_name_attribute": a.FullNameAttribute, "roles_attribute": a.RolesAttribute, "email_attribute": a.EmailAttribute} {
		if v != strings.TrimSpace(v) {
			add(field, "must not start or end with spaces")
		}
	}
	if f := a.Flex; f != nil {
		if !regexp.MustCompile(`^GO[0-9a-f]{32}$`).MatchString(f.InstanceSID) {
			add("flex.instance_sid", "must be the Flex Instance SID: GO followed by 32 hex digits (Twilio Console, Flex, Overview)")
		}
		// The Account SID itself means the account's Auth Token is the
		// secret (the credential the Flex v4 API pages show).
		if !regexp.MustCompile(`^SK[0-9a-f]{32}$`).MatchString(f.APIKeySID) && f.APIKeySID != a.AccountSID {
			add("flex.api_key_sid", "must be a Twilio API key SID (SK followed by 32 hex digits), or the Account SID when the secret is the Auth Token")
		}
		if f.APIBaseURL != "" {
			if msg := checkURL(f.APIBaseURL, false); msg != "" {
				add("flex.api_base_url", "%s", msg)
			}
		}
		if f.DeliveryURL != "" {
			if msg := checkURL(f.DeliveryURL, false); msg != "" {
				add("flex.delivery_url", "%s", msg)
			}
		}
		// The Flex token goes to the delivery URL, else the start URL. The
		// Twilio-hosted Flex UI documents no way to accept a token from a
		// URL, so a login delivered there would sign nobody in.
		if delivery := cmp.Or(f.DeliveryURL, a.StartURL); IsTwilioHostedFlex(delivery) {
			add("flex.delivery_url", "must not be the Twilio-hosted Flex UI (flex.twilio.com): it has no documented way to take a Flex token from a URL, so the agent would not be signed in. Use an app built on the Flex SDK, such as examples/agent-app (docs/flex.md)")
		}
	}
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Problems: p}
}

// IsTwilioHostedFlex reports a URL on flex.twilio.com or a subdomain: the
// Twilio-hosted Flex UI, which cannot take a Flex token from a URL.
func IsTwilioHostedFlex(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	return h == "flex.twilio.com" || strings.HasSuffix(h, ".flex.twilio.com")
}

// checkURL returns "" for an absolute http(s) URL, else why not. Plain http
// is accepted only for loopback hosts (local development).
func checkURL(raw string, required bool) string {
	if strings.TrimSpace(raw) == "" {
		if required {
			return "is required"
		}
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "must be an absolute https:// URL"
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return "must use https:// (plain http is only accepted for localhost)"
	}
	if u.User != nil {
		return "must not contain a user name or password"
	}
	return ""
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// ParseCertificate reads an X.509 certificate the way admins paste it: PEM
// with or without the BEGIN/END lines, with stray spaces, tabs and Windows
// line endings, or bare base64 DER.
func ParseCertificate(s string) (*x509.Certificate, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r", ""))
	if s == "" {
		return nil, errors.New("the certificate is empty: paste the whole file downloaded from Salesforce")
	}
	var der []byte
	if strings.Contains(s, "-----BEGIN") {
		// Re-flow each line so that indented PEM (pasted from an e-mail or
		// a YAML file) decodes.
		lines := strings.Split(s, "\n")
		for i := range lines {
			lines[i] = strings.TrimSpace(lines[i])
		}
		block, _ := pem.Decode([]byte(strings.Join(lines, "\n")))
		if block == nil {
			return nil, errors.New("the PEM text is damaged: paste the whole file, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----")
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("this is a %s, not a certificate: save the certificate (the .crt file downloaded from Salesforce), never a private key", strings.ToLower(block.Type))
		}
		der = block.Bytes
	} else {
		b64 := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\n' || r == '\t' {
				return -1
			}
			return r
		}, s)
		var err error
		der, err = base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, errors.New("the certificate is neither PEM nor base64: paste the .crt file downloaded from Salesforce")
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("the certificate cannot be read (%v): paste the .crt file downloaded from Salesforce", err)
	}
	return cert, nil
}

// NormalizeCertificate returns the certificate as canonical PEM, so that
// the stored setting is clean whatever the admin pasted.
func NormalizeCertificate(s string) (string, error) {
	c, err := ParseCertificate(s)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})), nil
}
