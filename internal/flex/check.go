package flex

import (
	"context"
	"net/http"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// ProbeUsername is the username Check looks up. It only needs to be
// syntactically valid; it is expected not to exist.
const ProbeUsername = "samlflex-check-probe"

// InstanceReady is the status of a Flex instance that serves logins
// ("Create a Flex instance programmatically"; the other documented values
// are creation-in-progress, creation-failed, deletion-in-progress, deleted,
// deletion-failed and unknown).
const InstanceReady = "ready"

// CheckResult is what Check found.
type CheckResult struct {
	// CredKind is the credential Twilio accepted.
	CredKind CredKind
	// AccountSID, InstanceSID and Status are the Flex instance as Twilio
	// reported it.
	AccountSID  string
	InstanceSID string
	Status      string
	// ProbeFound reports whether a user named ProbeUsername exists (it
	// normally does not; either way the credentials can read Flex users).
	ProbeFound bool
	// LookupStatus is the HTTP status of the user lookup: 200 (a list) or
	// 404, which Twilio may use for an unknown username.
	LookupStatus int
}

// wireInstance is the documented answer of the Flex instance read.
type wireInstance struct {
	FlexInstanceSID string `json:"flex_instance_sid"`
	AccountSID      string `json:"account_sid"`
	Status          string `json:"status"`
}

// Check verifies, read-only, that creds are accepted, that the Flex
// instance exists, belongs to the account and is ready, and that its users
// can be read. It makes two GETs with the same retries as a login and
// changes nothing in Twilio:
//
//   - GET /v2/Instances/{GO…} with the I-Twilio-Auth-Account header, the
//     documented read of a Flex instance ("Create a Flex instance
//     programmatically"). It settles instance and credentials, so that a 404
//     of the user lookup below can only mean "no such user".
//   - Get Flex user by username with ProbeUsername (v4 Users API), which
//     proves the credentials may use the API that logins call.
func (c *Client) Check(ctx context.Context, creds Creds, instanceSID string) (CheckResult, error) {
	const op = "check"
	if err := checkCall(op, creds, instanceSID); err != nil {
		return CheckResult{}, err
	}
	account := creds.account()
	if account == "" {
		return CheckResult{}, samlflex.Errorf(samlflex.CodeInvalidConfig,
			"flex %s: the Account SID is needed for the I-Twilio-Auth-Account header of the Flex instance read", op)
	}
	b := c.newBudget()
	var inst wireInstance
	_, err := c.do(ctx, creds, b, request{
		op: op, method: "GET", path: "/v2/Instances/" + instanceSID,
		header:    http.Header{"I-Twilio-Auth-Account": {account}},
		retrySafe: true, // a read
	}, &inst)
	if err != nil {
		return CheckResult{}, err
	}
	res := CheckResult{CredKind: creds.Kind(), AccountSID: inst.AccountSID, InstanceSID: inst.FlexInstanceSID, Status: inst.Status}
	switch {
	case res.InstanceSID != "" && res.InstanceSID != instanceSID:
		return res, samlflex.Errorf(samlflex.CodeFlexInstanceNotFound,
			"flex %s: asked for instance %s, Twilio answered for %s", op, instanceSID, res.InstanceSID)
	case res.AccountSID != "" && res.AccountSID != account:
		return res, samlflex.Errorf(samlflex.CodeFlexInstanceNotFound,
			"flex %s: Flex instance %s belongs to account %s, not %s: use that account's samlflex settings or the right instance SID",
			op, instanceSID, res.AccountSID, account)
	case res.Status != "" && res.Status != InstanceReady:
		return res, samlflex.Errorf(samlflex.CodeFlexInstanceNotFound,
			"flex %s: Flex instance %s is %q, not %q: logins need a ready instance (Twilio Console, Flex)",
			op, instanceSID, res.Status, InstanceReady)
	}
	page, status, err := c.listByUsername(ctx, creds, b, op, instanceSID, ProbeUsername)
	if err != nil {
		return res, err
	}
	_, res.ProbeFound = page.match(ProbeUsername)
	res.LookupStatus = status
	return res, nil
}
