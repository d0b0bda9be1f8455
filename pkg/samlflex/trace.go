package samlflex

import (
	"errors"
	"slices"
	"strings"
)

// Check is one decision of a verification: what was checked, the value
// samlflex expected, the value the response carried, and the setting that
// fixes a failure. The error page, the log and `samlflex account check`
// all show these, so a first failed login tells the admin everything that
// is wrong at once, instead of one Salesforce round trip per setting.
//
// The values are not secrets (URLs, issuer names, certificate
// fingerprints, attribute names, times) and never hold the response, a
// token, a key, or the raw NameID or e-mail. Received values are
// IdP-controlled (or, before the signature holds, sender-controlled): they
// are cut to maxDetailText bytes, and renderers must escape them.
type Check struct {
	// Name is stable snake_case (see the Check* constants).
	Name string `json:"name"`
	// Setting names where to fix a failure: a Salesforce field or a
	// samlflex account setting.
	Setting  string `json:"setting,omitempty"`
	Expected string `json:"expected,omitempty"`
	Received string `json:"received,omitempty"`
	// Note adds what an admin needs to read the values: a clock
	// difference, "presented, not trusted", the likely cause of a status.
	Note string `json:"note,omitempty"`
	// Message is the IdP's own free text (a StatusMessage), read before
	// any signature is checked: for the log and `samlflex account check`,
	// never for the error page, which must not echo what anyone can post.
	Message string `json:"message,omitempty"`
	OK      bool   `json:"ok"`
	// Code is the error code of a failed check ("" when OK).
	Code Code `json:"code,omitempty"`
}

// The check names, in the fixed order in which Verify and then Map
// evaluate them. The primary error (Verify's *Error, the X-Samlflex-Error
// header) is the first failed check in this order; the ones before
// CheckIssuer stop the verification (until the signature holds, nothing
// else in the response can be trusted; a refused SHA-1 is the exception:
// the signature is still checked, for the trace only), the ones after it
// are all evaluated. docs/decision-trace.md has the table.
const (
	CheckStatus            = "status"
	CheckAlgorithm         = "signature_algorithm"
	CheckSignature         = "signature"
	CheckIssuer            = "issuer"
	CheckDestination       = "destination"
	CheckConditionsTime    = "conditions_time"
	CheckAudience          = "audience"
	CheckNameID            = "name_id"
	CheckRecipient         = "recipient"
	CheckConfirmationTime  = "confirmation_time"
	CheckAuthnAge          = "authn_age"
	CheckInResponseTo      = "in_response_to"
	CheckRoles             = "roles"
	CheckFullNameAttribute = "full_name_attribute"
	CheckEmailAttribute    = "email_attribute"
)

// Trace is the decision trace of one response: every check evaluated, in
// order. After a signature failure it ends with the signature check; once
// the signature holds, it has every remaining check, failed or not.
type Trace struct {
	Checks []Check `json:"checks"`

	// verified is set once the signature holds: the attributes can then
	// be checked (CheckMapping) even when Verify refused the response.
	verified bool
	attrs    map[string][]string
}

// Failed returns the failed checks, in order.
func (t *Trace) Failed() []Check {
	if t == nil {
		return nil
	}
	var out []Check
	for _, c := range t.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// Check returns the check with that name, if it was evaluated.
func (t *Trace) Check(name string) (Check, bool) {
	if t != nil {
		for _, c := range t.Checks {
			if c.Name == name {
				return c, true
			}
		}
	}
	return Check{}, false
}

func (t *Trace) add(c Check) {
	// Expected values are the account's own settings; Received and Note
	// quote the response.
	c.Received, c.Note, c.Message = truncateDetail(c.Received), truncateDetail(c.Note), truncateDetail(c.Message)
	if c.OK {
		c.Code = ""
	}
	t.Checks = append(t.Checks, c)
}

// TraceOf returns the decision trace that err carries, or nil.
func TraceOf(err error) *Trace {
	var e *Error
	if errors.As(err, &e) {
		return e.Trace
	}
	return nil
}

// WithTrace attaches t to err when err is an *Error (the ACS attaches the
// combined trace of Verify and Map to Map's error), and returns err.
func WithTrace(err error, t *Trace) error {
	var e *Error
	if t != nil && errors.As(err, &e) {
		e.Trace = t
	}
	return err
}

// CheckMapping adds the attribute checks of Map (roles, full name, e-mail)
// to a trace whose signature held, so that a response refused for its
// audience also reports a missing roles attribute: all at once. It is a
// no-op before the signature holds (attributes that nobody vouches for are
// not worth an admin's time) and when the mapping was already checked.
func (t *Trace) CheckMapping(m Mapping) {
	if t == nil || !t.verified {
		return
	}
	if _, done := t.Check(CheckRoles); done {
		return
	}
	for _, c := range mappingChecks(t.attrs, m) {
		t.add(c)
	}
}

// mappingChecks evaluates Map's rules as checks, with Map's own functions
// so that the trace and the error agree.
func mappingChecks(attrs map[string][]string, m Mapping) []Check {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	slices.Sort(names)
	arrived := "attributes received: " + strings.Join(names, ", ")
	if len(names) == 0 {
		arrived = "the assertion carries no attributes"
	}
	var out []Check

	roles := Check{Name: CheckRoles, OK: true,
		Setting:  "Salesforce connected app: custom attribute " + m.RolesAttr + " (or samlflex --roles-attribute, --default-roles)",
		Expected: "attribute " + m.RolesAttr + " with Flex roles (agent, supervisor, admin, wfo.*)"}
	if len(m.DefaultRoles) > 0 {
		roles.Expected += ", else the default roles " + strings.Join(m.DefaultRoles, ",")
	}
	vals, present := attrs[m.RolesAttr]
	switch {
	case !present:
		roles.Received = "no attribute " + m.RolesAttr
		roles.Note = arrived
	default:
		roles.Received = m.RolesAttr + " = " + strings.Join(vals, " | ")
	}
	parsed, err := ParseRoles(vals)
	switch {
	case err != nil:
		roles.OK, roles.Code = false, CodeOf(err)
	case len(parsed) == 0:
		if def, derr := ParseRoles(m.DefaultRoles); derr != nil || len(def) == 0 {
			roles.OK, roles.Code = false, CodeNoRoles
			if present {
				roles.Note = "the attribute is empty; " + arrived
			}
		} else {
			roles.Note = "none received: the account's default roles apply"
		}
	}
	out = append(out, roles)

	// Optional attributes: never a failure (Map falls back to the NameID),
	// but an admin who expected them learns that they did not arrive. The
	// values are personal data: only their presence is reported.
	for _, opt := range []struct{ name, attr, fallback string }{
		{CheckFullNameAttribute, m.FullNameAttr, "the NameID is used as the name"},
		{CheckEmailAttribute, m.EmailAttr, "the NameID is used when it is an e-mail address"},
	} {
		c := Check{Name: opt.name, OK: true, Setting: "Salesforce connected app: custom attribute " + opt.attr,
			Expected: "attribute " + opt.attr + " (optional)", Received: "present"}
		if firstValue(attrs, opt.attr) == "" {
			c.Received, c.Note = "absent or empty", opt.fallback
		}
		out = append(out, c)
	}
	return out
}
