package samlidp

import (
	"encoding/json"
	"fmt"
	"maps"
)

// User is an account on the test IdP. The attribute fields become SAML
// attributes named full_name, email and roles, as a Salesforce connected
// app for Flex is set up to send. An empty field (nil Roles) leaves the
// attribute out of the Response, which is how tests reach attribute_missing.
type User struct {
	Username string // also the NameID (format unspecified)
	Password string

	FullName string
	Email    string
	// Roles are sent as one AttributeValue each. Salesforce custom
	// attributes are single-valued formulas, so []string{"agent"} or
	// []string{"admin,agent"} is what a real org sends.
	Roles []string
	// Extra adds more attributes (name to values); it may also override
	// full_name, email or roles, e.g. with two email values.
	Extra map[string][]string
}

// userJSON is the users-file shape server.js reads.
type userJSON struct {
	Username   string         `json:"username"`
	Password   string         `json:"password"`
	Attributes map[string]any `json:"attributes"`
}

func usersFile(users []User) ([]byte, error) {
	out := make([]userJSON, 0, len(users))
	seen := make(map[string]bool, len(users))
	for _, u := range users {
		if u.Username == "" {
			return nil, fmt.Errorf("user with an empty Username")
		}
		if seen[u.Username] {
			return nil, fmt.Errorf("user %q appears twice", u.Username)
		}
		seen[u.Username] = true
		attrs := map[string]any{}
		if u.FullName != "" {
			attrs["full_name"] = u.FullName
		}
		if u.Email != "" {
			attrs["email"] = u.Email
		}
		if u.Roles != nil {
			attrs["roles"] = u.Roles
		}
		for name, values := range maps.All(u.Extra) {
			attrs[name] = values
		}
		out = append(out, userJSON{Username: u.Username, Password: u.Password, Attributes: attrs})
	}
	return json.MarshalIndent(out, "", "  ")
}
