package flex

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// TestUserPrefix starts the username of every throwaway user that
// ProvisionTestUser creates, so that an admin can find (and remove) one
// that a failed run left behind.
const TestUserPrefix = "samlflex-test-"

// Observation is one answer that ProvisionTestUser saw, for the admin to
// compare with what samlflex assumes (docs/flex.md, "Confirm on a first
// live login").
type Observation struct {
	Step   string // "provision (create)", "lookup", …
	Status int    // HTTP status; 0 when no answer arrived
	Note   string // what the answer showed
}

// TestUserReport is what ProvisionTestUser did and saw.
type TestUserReport struct {
	Username      string
	FlexUserSID   string
	Deprovisioned bool
	Observations  []Observation
}

// Deprovision deactivates the Flex user flexUserSID ("Deprovision a Flex
// user", v4 Users API): Twilio removes its TaskRouter worker and Insights
// user. ASSUMED path: POST /v4/Instances/{GO…}/Users/{FU…}/Deprovision (see
// docs/flex.md); samlflex only calls it from `flex check
// --provision-test-user`, never during a login.
func (c *Client) Deprovision(ctx context.Context, creds Creds, instanceSID, flexUserSID string) (User, int, error) {
	const op = "deprovision_user"
	if err := checkUserCall(op, creds, instanceSID, flexUserSID); err != nil {
		return User{}, 0, err
	}
	var w wireUser
	status, err := c.do(ctx, creds, c.newBudget(), request{
		op: op, method: "POST", path: "/v4/Instances/" + instanceSID + "/Users/" + flexUserSID + "/Deprovision",
		retrySafe: true, // deactivating twice leaves the same state
	}, &w)
	if err != nil {
		return User{}, status, err
	}
	return w.user(), status, nil
}

// ProvisionTestUser runs a login's calls for a throwaway user and undoes
// it: Provision (create), Provision again (update), Get by username, mint a
// one-minute token, Deprovision, Get by username again. It reports every
// status and shape it saw, so that an admin can confirm the behaviours
// samlflex assumes. It changes Twilio (a deactivated user named
// TestUserPrefix… stays in the user list), which is why the CLI makes it
// opt-in. On failure the report says how far it got; if the user was
// created but not deprovisioned, err names it.
func (c *Client) ProvisionTestUser(ctx context.Context, creds Creds, instanceSID string) (TestUserReport, error) {
	var r TestUserReport
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return r, samlflex.Errorf(samlflex.CodeInternal, "flex test user: random name: %v", err)
	}
	r.Username = TestUserPrefix + hex.EncodeToString(suffix)
	id := Identity{Identity: r.Username, FullName: "samlflex test user", Email: r.Username + "@example.com", Roles: []string{"agent"}}
	see := func(step string, status int, note string, args ...any) {
		r.Observations = append(r.Observations, Observation{Step: step, Status: status, Note: fmt.Sprintf(note, args...)})
	}
	leftOver := func(err error) error {
		if r.FlexUserSID == "" || r.Deprovisioned {
			return err
		}
		return fmt.Errorf("%w (the test user %s, %s, is still active: deprovision it in the Twilio Console, Flex, Users)",
			err, r.Username, r.FlexUserSID)
	}

	b := c.newBudget()
	u, status, err := c.provisionStatus(ctx, creds, b, instanceSID, id)
	if err != nil {
		see("provision (create)", status, "failed")
		return r, err
	}
	r.FlexUserSID = u.FlexUserSID
	see("provision (create)", status, "worker_sid %s", presence(u.WorkerSID))
	id.FullName = "samlflex test user (updated)"
	u, status, err = c.provisionStatus(ctx, creds, c.newBudget(), instanceSID, id)
	if err != nil {
		see("provision (update)", status, "failed")
		return r, leftOver(err)
	}
	see("provision (update)", status, "same flex_user_sid: %t, full_name updated: %t", u.FlexUserSID == r.FlexUserSID, u.FullName == id.FullName)
	page, status, err := c.listByUsername(ctx, creds, c.newBudget(), "find_user", instanceSID, r.Username)
	if err != nil {
		see("lookup", status, "failed")
		return r, leftOver(err)
	}
	found, ok := page.match(r.Username)
	see("lookup", status, "found: %t, worker_sid %s", ok, presence(found.WorkerSID))
	t, status, err := c.mintTokenStatus(ctx, creds, c.newBudget(), instanceSID, r.FlexUserSID, MinTokenTTL)
	if err != nil {
		see("token", status, "failed")
		return r, leftOver(err)
	}
	see("token", status, "expires %s", t.Expires.UTC().Format("2006-01-02T15:04:05Z"))
	u, status, err = c.Deprovision(ctx, creds, instanceSID, r.FlexUserSID)
	if err != nil {
		see("deprovision", status, "failed")
		return r, leftOver(err)
	}
	r.Deprovisioned = true
	see("deprovision", status, "deactivated: %t", u.Deactivated)
	page, status, err = c.listByUsername(ctx, creds, c.newBudget(), "find_user", instanceSID, r.Username)
	if err != nil {
		see("lookup after deprovision", status, "failed")
		return r, err
	}
	found, ok = page.match(r.Username)
	switch {
	case !ok:
		see("lookup after deprovision", status, "no user (the deactivated user is not listed)")
	default:
		see("lookup after deprovision", status, "found, deactivated: %t, worker_sid %s", found.Deactivated, presence(found.WorkerSID))
	}
	return r, nil
}

func presence(s string) string {
	if s == "" {
		return "absent"
	}
	return "present"
}

// provisionStatus is provisionUser that also reports the HTTP status
// (201 or 200), which a login does not need but the test user shows.
func (c *Client) provisionStatus(ctx context.Context, creds Creds, b budget, instanceSID string, id Identity) (User, int, error) {
	var status int
	u, err := c.provisionUserStatus(ctx, creds, b, instanceSID, id, &status)
	return u, status, err
}
