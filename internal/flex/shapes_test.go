package flex

import (
	"net/http"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/flex/flextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// TestDocumentedAndAssumedShapes runs a login and a lookup against each
// answer the stand-in can give where Twilio's pages allow more than one
// (documented: worker_sid null or absent, no deactivated field) or say
// nothing (assumed: 200 or 201 on create, 404 for an unknown username, a
// deactivated user hidden). The connector must work with all of them.
func TestDocumentedAndAssumedShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts flextest.Options
	}{
		{"default (201, worker_sid, deactivated field)", flextest.Options{}},
		{"create answers 200 (assumed possible)", flextest.Options{CreateStatus: http.StatusOK}},
		{"no worker_sid in the lookup (documented nullable)", flextest.Options{NoWorkerSIDInLookup: true}},
		{"no deactivated field (documented examples)", flextest.Options{NoDeactivatedField: true}},
		{"unknown username answers 404 (assumed possible)", flextest.Options{UnknownUser404: true}},
		{"deactivated user hidden (assumed possible)", flextest.Options{HideDeactivated: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tt.opts, nil)
			ctx := t.Context()
			if _, found, err := e.c.FindUser(ctx, goodCreds, flextest.InstanceSID, "alice@example.com"); err != nil || found {
				t.Fatalf("lookup before the first login = %v, %v", found, err)
			}
			tok, err := e.c.Provision(ctx, goodCreds, flextest.InstanceSID, alice(), time.Hour)
			if err != nil || tok.AccessToken == "" {
				t.Fatalf("first login: %v", err)
			}
			u, found, err := e.c.FindUser(ctx, goodCreds, flextest.InstanceSID, "alice@example.com")
			if err != nil || !found || u.FlexUserSID != tok.FlexUserSID || u.Deactivated {
				t.Fatalf("lookup = %+v, %v, %v", u, found, err)
			}
			if (u.WorkerSID == "") != tt.opts.NoWorkerSIDInLookup {
				t.Errorf("WorkerSID = %q with NoWorkerSIDInLookup %v", u.WorkerSID, tt.opts.NoWorkerSIDInLookup)
			}
			if _, err := e.c.Provision(ctx, goodCreds, flextest.InstanceSID, alice(), time.Hour); err != nil {
				t.Fatalf("second login: %v", err)
			}
		})
	}
}

// TestDeactivatedUserShapes: after a deprovision, a login must not mint a
// token whichever way Twilio shows the deactivation.
func TestDeactivatedUserShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     flextest.Options
		wantCode samlflex.Code
	}{
		// Provision answers "deactivated": true: refused before the token.
		{"deactivated field", flextest.Options{}, samlflex.CodeFlexRejected},
		// Without the field the user looks active; the Tokens call's 404
		// (assumed for a deactivated user) still stops the login.
		{"no deactivated field", flextest.Options{NoDeactivatedField: true}, samlflex.CodeFlexInstanceNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tt.opts, nil)
			if _, err := e.c.Provision(t.Context(), goodCreds, flextest.InstanceSID, alice(), time.Hour); err != nil {
				t.Fatal(err)
			}
			e.srv.SetDeactivated("alice@example.com", true)
			_, err := e.c.Provision(t.Context(), goodCreds, flextest.InstanceSID, alice(), time.Hour)
			wantCode(t, err, tt.wantCode)
			if n := len(e.srv.Tokens()); n != 1 {
				t.Errorf("tokens = %d, want only the first login's", n)
			}
		})
	}
}
