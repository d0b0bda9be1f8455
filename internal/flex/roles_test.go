package flex

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/flex/flextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

func TestSplitRoles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       []string
		send     []string
		dropped  []string
		wantCode samlflex.Code
	}{
		{"documented roles", []string{"agent", "supervisor", "admin"}, []string{"agent", "supervisor", "admin"}, nil, ""},
		{"duplicates once", []string{"agent", "agent"}, []string{"agent"}, nil, ""},
		{"insights roles dropped", []string{"supervisor", "wfo.team_leader", "wfo.full_access"}, []string{"supervisor"},
			[]string{"wfo.team_leader", "wfo.full_access"}, ""},
		{"only insights roles refused", []string{"wfo.full_access"}, nil, nil, samlflex.CodeFlexRejected},
		{"unknown role refused", []string{"agent", "superuser"}, nil, nil, samlflex.CodeFlexRejected},
		{"bare wfo. prefix refused", []string{"agent", "wfo."}, nil, nil, samlflex.CodeFlexRejected},
		{"case matters", []string{"Agent"}, nil, nil, samlflex.CodeFlexRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			send, dropped, err := splitRoles("test", tt.in)
			if tt.wantCode != "" {
				wantCode(t, err, tt.wantCode)
				return
			}
			if err != nil || !reflect.DeepEqual(send, tt.send) || !reflect.DeepEqual(dropped, tt.dropped) {
				t.Errorf("splitRoles(%v) = %v, %v, %v; want %v, %v", tt.in, send, dropped, err, tt.send, tt.dropped)
			}
		})
	}
}

// TestProvisionInsightsRoles: against the stand-in (which, as assumed of
// Twilio, refuses roles Provision does not document), a login with Insights
// roles provisions the documented ones and logs the dropped ones; a login
// with Insights roles only is refused before any request.
func TestProvisionInsightsRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, flextest.Options{}, nil)
	id := alice()
	id.Roles = []string{"supervisor", "wfo.team_leader"}
	if _, err := e.c.Provision(t.Context(), goodCreds, flextest.InstanceSID, id, time.Hour); err != nil {
		t.Fatalf("login with an Insights role: %v", err)
	}
	u, _ := e.srv.User(id.Identity)
	if !reflect.DeepEqual(u.Roles, []string{"supervisor"}) {
		t.Errorf("stored roles = %v, want [supervisor]", u.Roles)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "flex insights roles not sent to provision") || !strings.Contains(logs, "wfo.team_leader") {
		t.Errorf("no warning naming the dropped role:\n%s", logs)
	}

	before := len(e.srv.Requests())
	id.Roles = []string{"wfo.full_access"}
	_, err := e.c.Provision(t.Context(), goodCreds, flextest.InstanceSID, id, time.Hour)
	wantCode(t, err, samlflex.CodeFlexRejected)
	if n := len(e.srv.Requests()) - before; n != 0 {
		t.Errorf("%d requests for a login without a Flex role", n)
	}

	// No wfo.* role ever reached Provision.
	var apiErrStatus int
	for _, r := range e.srv.RequestsTo(http.MethodPost, "/Users/Provision") {
		for _, role := range r.JSON()["roles"].([]any) {
			if strings.HasPrefix(role.(string), "wfo.") {
				apiErrStatus = r.Status
			}
		}
	}
	if apiErrStatus != 0 {
		t.Errorf("a wfo.* role reached Provision (answered %d)", apiErrStatus)
	}
}
