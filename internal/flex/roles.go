package flex

import (
	"slices"
	"strings"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// isProvisionRole reports the roles the Flex Users API documents for
// Provision ("Flex Users API (public beta)": agent, supervisor, admin).
func isProvisionRole(r string) bool {
	switch r {
	case "agent", "supervisor", "admin":
		return true
	}
	return false
}

// insightsRolePrefix marks Flex Insights roles ("Flex Insights User Roles":
// wfo.full_access, wfo.team_leader, …).
const insightsRolePrefix = "wfo."

// splitRoles picks what Provision may be sent. Flex Insights roles are
// dropped, not sent and not refused:
//
//   - Sending them is undocumented: Provision documents agent, supervisor
//     and admin only, so a wfo.* role would most likely earn a 400 and fail
//     the whole login.
//   - Refusing them would lock out every supervisor whose IdP still sends
//     the Insights roles that Twilio's hosted SSO accepted in the same
//     attribute, for a permission that only matters inside Insights.
//   - No documented API sets a Flex user's Insights roles: the only
//     documented way is the roles attribute of Twilio's own SSO ("Flex
//     Insights User Roles"). Provision creates the Insights user itself when
//     Insights is enabled ("Flex Users API"); its role is then managed in
//     Flex Insights.
//
// The caller logs the dropped roles (role names are not personal data).
// Any other role is refused: samlflex.Map already refuses roles Flex does
// not know, so one here means a caller bypassed it.
func splitRoles(op string, roles []string) (send, dropped []string, err error) {
	for _, r := range roles {
		switch {
		case isProvisionRole(r):
			if !slices.Contains(send, r) {
				send = append(send, r)
			}
		case strings.HasPrefix(r, insightsRolePrefix) && len(r) > len(insightsRolePrefix):
			dropped = append(dropped, r)
		default:
			return nil, nil, samlflex.Errorf(samlflex.CodeFlexRejected,
				"flex %s: role %q is not one Provision accepts (agent, supervisor, admin) nor a Flex Insights wfo.* role", op, r)
		}
	}
	if len(send) == 0 {
		return nil, dropped, samlflex.Errorf(samlflex.CodeFlexRejected,
			"flex %s: no Flex role among %v: Provision needs agent, supervisor or admin; Flex Insights roles (wfo.*) alone cannot be provisioned and are not sent", op, roles)
	}
	return send, dropped, nil
}
