package flex

import (
	"strconv"
	"strings"
	"testing"

	"github.com/samlflex/samlflex/internal/flex/flextest"
)

func TestProvisionTestUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opts  flextest.Options
		creds Creds
		want  map[string]string // step -> "status|part of the note"
	}{
		{"defaults", flextest.Options{}, goodCreds, map[string]string{
			"provision (create)":       "201|worker_sid present",
			"provision (update)":       "200|same flex_user_sid: true, full_name updated: true",
			"lookup":                   "200|found: true, worker_sid present",
			"token":                    "200|expires 2026-03-02T09:3",
			"deprovision":              "200|deactivated: true",
			"lookup after deprovision": "200|found, deactivated: true, worker_sid absent",
		}},
		{"Twilio's other plausible answers", flextest.Options{CreateStatus: 200, NoWorkerSIDInLookup: true, HideDeactivated: true, UnknownUser404: true},
			authTokenCreds, map[string]string{
				"provision (create)":       "200|worker_sid present",
				"lookup":                   "200|worker_sid absent",
				"lookup after deprovision": "404|no user",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tt.opts, nil)
			rep, err := e.c.ProvisionTestUser(t.Context(), tt.creds, flextest.InstanceSID)
			if err != nil {
				t.Fatalf("ProvisionTestUser: %v\n%+v", err, rep)
			}
			if !strings.HasPrefix(rep.Username, TestUserPrefix) || !rep.Deprovisioned {
				t.Errorf("report = %+v", rep)
			}
			for step, want := range tt.want {
				status, note, _ := strings.Cut(want, "|")
				o, ok := findObs(rep.Observations, step)
				if !ok || strconv.Itoa(o.Status) != status || !strings.Contains(o.Note, note) {
					t.Errorf("%s = %+v, want HTTP %s and %q", step, o, status, note)
				}
			}
			u, ok := e.srv.User(rep.Username)
			if !ok || !u.Deactivated {
				t.Errorf("test user left active: %+v", u)
			}
			if n := len(e.srv.Tokens()); n != 1 || e.srv.Tokens()[0].TTL != 60 {
				t.Errorf("tokens = %+v, want one of 60 s", e.srv.Tokens())
			}
		})
	}
}

// A failure after the create names the user left behind.
func TestProvisionTestUserLeftOver(t *testing.T) {
	t.Parallel()
	e := newEnv(t, flextest.Options{MaxTTL: 30}, nil)
	rep, err := e.c.ProvisionTestUser(t.Context(), goodCreds, flextest.InstanceSID)
	if err == nil || rep.Deprovisioned || rep.FlexUserSID == "" {
		t.Fatalf("err = %v, report %+v", err, rep)
	}
	if !strings.Contains(err.Error(), rep.Username) || !strings.Contains(err.Error(), "still active") {
		t.Errorf("error does not name the left-over user: %v", err)
	}
}

func findObs(os []Observation, step string) (Observation, bool) {
	for _, o := range os {
		if o.Step == step {
			return o, true
		}
	}
	return Observation{}, false
}
