package demo

import (
	"crypto/subtle"
	"strings"
)

// Password is the password of every demo user. It is printed by `samlflex
// dev`: the demo IdP protects nothing, and a secret password would only slow
// a first try down.
const Password = "demo"

// User is one demo identity, with what Salesforce would send for it.
type User struct {
	// Username is what the login form asks for and what the NameID carries
	// (Salesforce's Subject Type "Username").
	Username string
	Password string
	// FullName, Email and Roles become the full_name, email and roles
	// attributes, as the setup guide's connected-app custom attributes do.
	FullName string
	Email    string
	// Roles are sent as one comma-separated value, the way a Salesforce
	// formula such as "agent,supervisor" produces them.
	Roles []string
}

// DefaultUsers returns the demo users: one per Flex role that matters for a
// first look (agent; supervisor who also takes calls; admin). It returns a
// new slice each time so that no caller can change another's users.
func DefaultUsers() []User {
	return []User{
		{Username: "alice", Password: Password, FullName: "Alice Agent", Email: "alice@example.com", Roles: []string{"agent"}},
		{Username: "bob", Password: Password, FullName: "Bob Supervisor", Email: "bob@example.com", Roles: []string{"supervisor", "agent"}},
		{Username: "carol", Password: Password, FullName: "Carol Admin", Email: "carol@example.com", Roles: []string{"admin"}},
	}
}

// RolesValue is the roles attribute value, comma separated.
func (u User) RolesValue() string { return strings.Join(u.Roles, ",") }

// findUser returns the user with this username (case-insensitive, as
// Salesforce usernames are).
func findUser(users []User, username string) (User, bool) {
	for _, u := range users {
		if strings.EqualFold(u.Username, strings.TrimSpace(username)) {
			return u, true
		}
	}
	return User{}, false
}

// authenticate checks a username and password. The comparison is constant
// time even here, so that nobody copies a timing leak from the demo into
// real code.
func authenticate(users []User, username, password string) (User, bool) {
	u, ok := findUser(users, username)
	if !ok {
		// Compare anyway so that unknown users cost the same.
		subtle.ConstantTimeCompare([]byte(password), []byte(Password))
		return User{}, false
	}
	if subtle.ConstantTimeCompare([]byte(password), []byte(u.Password)) != 1 {
		return User{}, false
	}
	return u, true
}
