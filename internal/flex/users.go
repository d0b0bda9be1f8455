package flex

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// maxFieldChars is the documented length limit of username, full_name and
// email in Provision ("String [1 .. 256] characters").
const maxFieldChars = 256

// Identity is what a login knows about the user, mapped from the SAML
// assertion. Identity is the Flex username: unique per Flex instance, it is
// the key that makes provisioning idempotent.
type Identity struct {
	Identity string
	FullName string
	Email    string
	// Roles replace the user's roles at every login. Provision is sent
	// agent, supervisor and admin; Flex Insights wfo.* roles are dropped
	// with a warning (see splitRoles).
	Roles []string
}

// IdentityFrom adapts the mapped assertion. Roles are copied as they are
// (samlflex.Map already sorts, de-duplicates and lower-cases them).
func IdentityFrom(fi samlflex.FlexIdentity) Identity {
	return Identity{Identity: fi.Identity, FullName: fi.FullName, Email: fi.Email,
		Roles: append([]string(nil), fi.Roles...)}
}

// LogValue keeps raw identities out of logs (STYLE: hash them).
func (id Identity) LogValue() slog.Value {
	return slog.GroupValue(slog.String("identity_hash", hashIdentity(id.Identity)),
		slog.Any("roles", id.Roles))
}

// hashIdentity is a short, stable pseudonym for logs.
func hashIdentity(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

// validate applies the documented Provision schema before any request, so
// that a bad login fails with the field named instead of a Twilio 400.
// Empty email or full name is refused, not sent: see "UNCONFIRMED: how to
// clear an attribute" in doc.go.
func (id Identity) validate(op string) error {
	for _, f := range []struct{ name, v string }{
		{"username (identity)", id.Identity}, {"full_name", id.FullName}, {"email", id.Email},
	} {
		if n := utf8.RuneCountInString(f.v); n < 1 || n > maxFieldChars {
			return samlflex.Errorf(samlflex.CodeFlexRejected,
				"flex %s: %s must be 1..%d characters (Flex requires it and offers no way to clear it), got %d",
				op, f.name, maxFieldChars, n)
		}
	}
	if len(id.Roles) == 0 {
		return samlflex.Errorf(samlflex.CodeFlexRejected, "flex %s: roles must not be empty", op)
	}
	for i, r := range id.Roles {
		if r == "" {
			return samlflex.Errorf(samlflex.CodeFlexRejected, "flex %s: roles[%d] is empty", op, i)
		}
	}
	return nil
}

// User is a Flex user as the Flex Users API returns it.
type User struct {
	FlexUserSID  string
	AccountSID   string
	InstanceSID  string
	TeamSID      string
	WorkerSID    string
	WorkspaceSID string
	Username     string
	FullName     string
	Email        string
	Roles        []string
	Locale       string
	Version      int64
	Deactivated  bool
	Created      time.Time
	Updated      time.Time
}

// wireUser is the documented JSON of a Flex user. Provision nests the
// worker SIDs under "worker"; the GET answers have them at the top.
// The schema table says team_sid, the examples flex_team_sid: both are read.
type wireUser struct {
	FlexUserSID  string   `json:"flex_user_sid"`
	AccountSID   string   `json:"account_sid"`
	InstanceSID  string   `json:"instance_sid"`
	FlexTeamSID  string   `json:"flex_team_sid"`
	TeamSID      string   `json:"team_sid"`
	WorkerSID    *string  `json:"worker_sid"`
	WorkspaceSID *string  `json:"workspace_sid"`
	Worker       *wireSID `json:"worker"`
	Username     string   `json:"username"`
	FullName     string   `json:"full_name"`
	Email        string   `json:"email"`
	Roles        []string `json:"roles"`
	Locale       *string  `json:"locale"`
	Version      int64    `json:"version"`
	Deactivated  bool     `json:"deactivated"`
	CreatedDate  string   `json:"created_date"`
	UpdatedDate  string   `json:"updated_date"`
}

type wireSID struct {
	WorkerSID    string `json:"worker_sid"`
	WorkspaceSID string `json:"workspace_sid"`
}

func (w wireUser) user() User {
	u := User{
		FlexUserSID: w.FlexUserSID, AccountSID: w.AccountSID, InstanceSID: w.InstanceSID,
		TeamSID: w.FlexTeamSID, Username: w.Username, FullName: w.FullName, Email: w.Email,
		Roles: w.Roles, Version: w.Version, Deactivated: w.Deactivated,
		Created: parseTime(w.CreatedDate), Updated: parseTime(w.UpdatedDate),
	}
	if u.TeamSID == "" {
		u.TeamSID = w.TeamSID
	}
	if w.WorkerSID != nil {
		u.WorkerSID = *w.WorkerSID
	}
	if w.WorkspaceSID != nil {
		u.WorkspaceSID = *w.WorkspaceSID
	}
	if w.Worker != nil {
		u.WorkerSID = cmp.Or(u.WorkerSID, w.Worker.WorkerSID)
		u.WorkspaceSID = cmp.Or(u.WorkspaceSID, w.Worker.WorkspaceSID)
	}
	if w.Locale != nil {
		u.Locale = *w.Locale
	}
	return u
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// provisionBody is the documented Provision request. Worker is required;
// an empty object carries no "attributes", so (as far as the docs let us
// tell) routing attributes set in Flex are left alone.
type provisionBody struct {
	Username string   `json:"username"`
	Email    string   `json:"email"`
	FullName string   `json:"full_name"`
	Roles    []string `json:"roles"`
	Worker   struct{} `json:"worker"`
}

// ProvisionUser creates the Flex user named id.Identity, or updates it to
// exactly id (roles replace the previous set). It is Twilio's idempotent
// create-or-update, so it serves as both CreateUser and UpdateUser.
func (c *Client) ProvisionUser(ctx context.Context, creds Creds, instanceSID string, id Identity) (User, error) {
	return c.provisionUser(ctx, creds, c.newBudget(), instanceSID, id)
}

func (c *Client) provisionUser(ctx context.Context, creds Creds, b budget, instanceSID string, id Identity) (User, error) {
	return c.provisionUserStatus(ctx, creds, b, instanceSID, id, nil)
}

func (c *Client) provisionUserStatus(ctx context.Context, creds Creds, b budget, instanceSID string, id Identity, status *int) (User, error) {
	const op = "provision_user"
	if err := checkCall(op, creds, instanceSID); err != nil {
		return User{}, err
	}
	if err := id.validate(op); err != nil {
		return User{}, err
	}
	roles, dropped, err := splitRoles(op, id.Roles)
	if err != nil {
		return User{}, err
	}
	if len(dropped) > 0 {
		c.log.LogAttrs(ctx, slog.LevelWarn, "flex insights roles not sent to provision",
			slog.Any("identity", id), slog.Any("dropped_roles", dropped),
			slog.String("why", "the Flex Users API documents agent, supervisor and admin only; manage Insights roles in Flex Insights"))
	}
	var w wireUser
	st, err := c.do(ctx, creds, b, request{
		op: op, method: "POST", path: "/v4/Instances/" + instanceSID + "/Users/Provision",
		body: provisionBody{Username: id.Identity, Email: id.Email, FullName: id.FullName, Roles: roles},
		// Documented idempotent: a repeat cannot create a second user, and a
		// repeat after a racing create's 409 is an update.
		retrySafe: true, retryConflict: true,
		redact: []string{id.Identity, id.Email, id.FullName},
	}, &w)
	if status != nil {
		*status = st
	}
	if err != nil {
		return User{}, err
	}
	if !flexUserSIDPattern.MatchString(w.FlexUserSID) {
		return User{}, samlflex.Errorf(samlflex.CodeFlexUnavailable,
			"flex %s: answer has no valid flex_user_sid", op)
	}
	return w.user(), nil
}

// FindUser looks a Flex user up by username (v4 "Get Flex user by
// username"). found is false when Twilio knows no such user: an empty list
// or a 404 (see listByUsername).
func (c *Client) FindUser(ctx context.Context, creds Creds, instanceSID, identity string) (u User, found bool, err error) {
	const op = "find_user"
	if err := checkCall(op, creds, instanceSID); err != nil {
		return User{}, false, err
	}
	if identity == "" {
		return User{}, false, samlflex.Errorf(samlflex.CodeFlexRejected, "flex %s: empty username", op)
	}
	page, _, err := c.listByUsername(ctx, creds, c.newBudget(), op, instanceSID, identity)
	if err != nil {
		return User{}, false, err
	}
	u, found = page.match(identity)
	return u, found, nil
}

// usersPage is the documented answer of Get Flex user by username.
type usersPage struct {
	AccountSID  string     `json:"account_sid"`
	InstanceSID string     `json:"instance_sid"`
	Users       []wireUser `json:"users"`
}

// match picks the user named identity. The docs promise 0 or 1 results; an
// exact match is preferred should Twilio ever return more.
func (p usersPage) match(identity string) (User, bool) {
	for _, w := range p.Users {
		if w.Username == identity {
			return w.user(), true
		}
	}
	if len(p.Users) == 1 {
		return p.Users[0].user(), true
	}
	return User{}, false
}

// listByUsername runs Get Flex user by username. The page documents a list
// of 0 or 1 users; whether an unknown username answers 200 with an empty
// list or 404 is not documented, so both read as "no such user" (status
// tells which one Twilio gave, for `flex check --provision-test-user`). A
// 404 cannot tell an unknown instance from an unknown user: Check reads
// the instance first for that reason.
func (c *Client) listByUsername(ctx context.Context, creds Creds, b budget, op, instanceSID, identity string) (usersPage, int, error) {
	var page usersPage
	status, err := c.do(ctx, creds, b, request{
		op: op, method: "GET", path: "/v4/Instances/" + instanceSID + "/Users",
		query:     url.Values{"Username": {identity}},
		retrySafe: true, // a read
		redact:    []string{identity},
	}, &page)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return usersPage{}, status, nil
	}
	return page, status, err
}
