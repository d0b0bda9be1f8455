package flex

import (
	"net/http"
	"testing"

	"github.com/samlflex/samlflex/internal/flex/flextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

var authTokenCreds = Creds{Username: flextest.AccountSID, Secret: flextest.AuthToken}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       flextest.Options
		setup      func(*flextest.Server)
		creds      Creds
		instance   string
		wantCode   samlflex.Code // "" for success
		wantKind   CredKind
		wantLookup int
	}{
		{"API key", flextest.Options{}, nil, goodCreds, flextest.InstanceSID, "", CredAPIKey, 200},
		{"Auth Token", flextest.Options{}, nil, authTokenCreds, flextest.InstanceSID, "", CredAuthToken, 200},
		{"unknown user answers 404", flextest.Options{UnknownUser404: true}, nil, goodCreds, flextest.InstanceSID, "", CredAPIKey, 404},
		{"wrong Auth Token", flextest.Options{}, nil, Creds{Username: flextest.AccountSID, Secret: "wrong-token-0000000000"},
			flextest.InstanceSID, samlflex.CodeFlexCredentialsInvalid, "", 0},
		{"key rejected", flextest.Options{}, func(s *flextest.Server) { s.RejectCredentials(true) }, goodCreds, flextest.InstanceSID,
			samlflex.CodeFlexCredentialsInvalid, "", 0},
		{"Flex 45002", flextest.Options{}, func(s *flextest.Server) { s.FailNext(1, 401, 45002) }, goodCreds, flextest.InstanceSID,
			samlflex.CodeFlexCredentialsInvalid, "", 0},
		{"unknown instance", flextest.Options{}, nil, goodCreds, "GO0000000000000000000000000000000f", samlflex.CodeFlexInstanceNotFound, "", 0},
		{"hidden instance", flextest.Options{}, func(s *flextest.Server) { s.HideInstance(true) }, goodCreds, flextest.InstanceSID,
			samlflex.CodeFlexInstanceNotFound, "", 0},
		{"instance not ready", flextest.Options{InstanceStatus: "deletion-in-progress"}, nil, goodCreds, flextest.InstanceSID,
			samlflex.CodeFlexInstanceNotFound, "", 0},
		{"API key without the account for the header", flextest.Options{}, nil,
			Creds{Username: flextest.APIKeySID, Secret: flextest.APISecret}, flextest.InstanceSID, samlflex.CodeInvalidConfig, "", 0},
		{"Auth Token of another account", flextest.Options{}, nil,
			Creds{Username: flextest.AccountSID, Secret: flextest.AuthToken, AccountSID: "AC00000000000000000000000000000002"},
			flextest.InstanceSID, samlflex.CodeFlexCredentialsInvalid, "", 0},
		{"Twilio down", flextest.Options{}, func(s *flextest.Server) { s.FailWith(http.StatusServiceUnavailable) }, goodCreds,
			flextest.InstanceSID, samlflex.CodeFlexUnavailable, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tt.opts, nil)
			if tt.setup != nil {
				tt.setup(e.srv)
			}
			res, err := e.c.Check(t.Context(), tt.creds, tt.instance)
			if tt.wantCode != "" {
				wantCode(t, err, tt.wantCode)
			} else if err != nil {
				t.Fatalf("Check: %v", err)
			} else if res.AccountSID != flextest.AccountSID || res.InstanceSID != flextest.InstanceSID ||
				res.Status != InstanceReady || res.ProbeFound || res.CredKind != tt.wantKind || res.LookupStatus != tt.wantLookup {
				t.Errorf("result = %+v", res)
			}
			for _, r := range e.srv.Requests() {
				if r.Method != http.MethodGet {
					t.Errorf("Check sent %s %s; it must be read-only", r.Method, r.Path)
				}
			}
			if tt.wantCode == "" {
				reqs := e.srv.Requests()
				if len(reqs) != 2 || reqs[0].Path != "/v2/Instances/"+flextest.InstanceSID || reqs[1].Path != "/v4/Instances/"+flextest.InstanceSID+"/Users" {
					t.Errorf("requests = %+v, want the instance read, then the user lookup", reqs)
				}
				if reqs[0].BasicUser != tt.creds.Username {
					t.Errorf("authenticated as %q, want %q", reqs[0].BasicUser, tt.creds.Username)
				}
			}
			if len(e.srv.Users()) != 0 {
				t.Error("Check created a user")
			}
		})
	}
}

func TestCheckCreds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		creds Creds
		ok    bool
		kind  CredKind
	}{
		{"API key", goodCreds, true, CredAPIKey},
		{"Auth Token", authTokenCreds, true, CredAuthToken},
		{"Auth Token naming its account", Creds{Username: flextest.AccountSID, Secret: "x", AccountSID: flextest.AccountSID}, true, CredAuthToken},
		{"no secret", Creds{Username: flextest.APIKeySID}, false, CredAPIKey},
		{"short key SID", Creds{Username: "SK123", Secret: "x"}, false, CredAPIKey},
		{"colon", Creds{Username: "SK:0000000000000000000000000000001", Secret: "x"}, false, CredAPIKey},
		{"other prefix", Creds{Username: "US00000000000000000000000000000001", Secret: "x"}, false, CredAPIKey},
		{"Auth Token of another account", Creds{Username: flextest.AccountSID, Secret: "x", AccountSID: "AC00000000000000000000000000000002"}, false, CredAuthToken},
		{"malformed account", Creds{Username: flextest.APIKeySID, Secret: "x", AccountSID: "ACxyz"}, false, CredAPIKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkCreds("test", tt.creds)
			if tt.ok != (err == nil) {
				t.Errorf("checkCreds = %v, want ok %v", err, tt.ok)
			}
			if !tt.ok {
				wantCode(t, err, samlflex.CodeFlexCredentialsInvalid)
			}
			if tt.creds.Kind() != tt.kind {
				t.Errorf("Kind = %s, want %s", tt.creds.Kind(), tt.kind)
			}
		})
	}
}
