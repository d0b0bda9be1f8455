package samlflex

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
)

// Mapping says which assertion attributes carry the Flex identity.
type Mapping struct {
	FullNameAttr string
	RolesAttr    string
	EmailAttr    string
	// DefaultRoles apply when the IdP sends no roles; empty means reject.
	DefaultRoles []string
}

// FlexIdentity is what Flex needs to know about the person who logged in.
type FlexIdentity struct {
	// Identity is the NameID (Salesforce Subject Type "Username").
	Identity string
	FullName string
	Email    string
	// Roles are sorted, de-duplicated, lower-case Flex roles.
	Roles []string
	// RolesDefaulted is true when Roles came from the account's defaults.
	RolesDefaulted bool
	// RawAttributes are the assertion's attributes, kept for diagnostics.
	RawAttributes map[string][]string
}

// flexRoles are the roles Flex knows: the three Flex UI roles and the Flex
// Insights (WFO) roles.
var flexRoles = map[string]bool{
	"agent": true, "supervisor": true, "admin": true,
	"wfo.full_access": true, "wfo.team_leader": true, "wfo.dashboard_viewer": true,
	"wfo.data_analyst": true, "wfo.data_auditor": true, "wfo.quality_manager": true,
	"wfo.quality_process_manager": true,
}

// KnownRole reports whether r (already normalized) is a Flex role.
func KnownRole(r string) bool { return flexRoles[strings.ToLower(strings.TrimSpace(r))] }

// Map turns a verified assertion into a Flex identity.
func Map(a *Assertion, m Mapping) (FlexIdentity, error) {
	id := FlexIdentity{Identity: a.NameID, RawAttributes: a.Attributes}
	if id.Identity == "" {
		return FlexIdentity{}, Errorf(CodeAttributeMissing, "NameID is empty")
	}
	id.FullName = firstValue(a.Attributes, m.FullNameAttr)
	if id.FullName == "" {
		id.FullName = id.Identity
	}
	id.Email = firstValue(a.Attributes, m.EmailAttr)
	if id.Email == "" && isEmail(a.NameID) {
		id.Email = a.NameID
	}
	roles, err := ParseRoles(a.Attributes[m.RolesAttr])
	if err != nil {
		return FlexIdentity{}, err
	}
	if len(roles) == 0 {
		if roles, err = ParseRoles(m.DefaultRoles); err != nil {
			return FlexIdentity{}, err
		}
		id.RolesDefaulted = true
	}
	if len(roles) == 0 {
		return FlexIdentity{}, Errorf(CodeNoRoles, "attribute %q is absent or empty and the account has no default roles", m.RolesAttr)
	}
	id.Roles = roles
	return id, nil
}

func firstValue(attrs map[string][]string, name string) string {
	for _, v := range attrs[name] {
		if t := strings.TrimSpace(v); t != "" {
			return t
		}
	}
	return ""
}

func isEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && addr.Name == ""
}

var safeRoleText = regexp.MustCompile(`^[a-z0-9._ -]{1,64}$`)

// ParseRoles reads roles in every shape Salesforce formulas produce:
// "agent", a value with literal quotes ("\"agent\"", when the formula was
// typed with quotes inside a text field), "agent, supervisor, admin",
// "agent;supervisor", several AttributeValue elements, mixed case and
// spaces. It returns a sorted, de-duplicated list, or an unknown_role error
// naming the first role Flex does not know (a typo must not silently drop a
// supervisor to agent).
func ParseRoles(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '\r' }) {
			r := strings.ToLower(strings.Trim(strings.TrimSpace(part), "\"'“”‘’ \t"))
			if r == "" {
				continue
			}
			if !flexRoles[r] {
				public := PublicMessage(CodeUnknownRole)
				if safeRoleText.MatchString(r) {
					public = "The roles attribute names the role \"" + r + "\", which Flex does not know. Use agent, supervisor, admin or a Flex Insights wfo.* role in the Salesforce connected app's roles custom attribute."
				}
				return nil, NewError(CodeUnknownRole, public, fmt.Errorf("unknown role %q", truncateDetail(r)))
			}
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
