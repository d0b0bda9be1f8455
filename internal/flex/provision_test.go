package flex

import (
	"encoding/base64"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/flex/flextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

func TestProvisionFirstLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, flextest.Options{}, nil)
	id := alice()

	tok, err := e.c.Provision(t.Context(), goodCreds, flextest.InstanceSID, id, 45*time.Minute)
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}

	users := e.srv.Users()
	if len(users) != 1 {
		t.Fatalf("users = %d, want 1", len(users))
	}
	u := users[0]
	if u.Username != id.Identity || u.FullName != id.FullName || u.Email != id.Email ||
		!reflect.DeepEqual(u.Roles, id.Roles) {
		t.Errorf("stored user = %+v, want fields of %+v", u, id)
	}
	if string(u.Worker) != "{}" {
		t.Errorf("worker = %s, want {}", u.Worker)
	}

	minted := e.srv.Tokens()
	if len(minted) != 1 {
		t.Fatalf("tokens minted = %d, want 1", len(minted))
	}
	if tok.AccessToken != minted[0].AccessToken || tok.FlexUserSID != u.FlexUserSID {
		t.Errorf("token = %v for %s, want the minted one for %s", tok, tok.FlexUserSID, u.FlexUserSID)
	}
	if minted[0].TTL != 45*60 {
		t.Errorf("ttl sent = %d, want 2700", minted[0].TTL)
	}
	if want := e.clock.Now().Add(45 * time.Minute); !tok.Expires.Equal(want) {
		t.Errorf("Expires = %v, want %v", tok.Expires, want)
	}
	if tok.Identity != id.Identity || !reflect.DeepEqual(tok.Roles, id.Roles) {
		t.Errorf("token identity/roles = %q %v", tok.Identity, tok.Roles)
	}

	// Exactly the documented two calls, JSON-encoded.
	reqs := e.srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("requests = %d, want 2 (provision, token)", len(reqs))
	}
	prov, mint := reqs[0], reqs[1]
	if prov.Method != http.MethodPost || prov.Path != "/v4/Instances/"+flextest.InstanceSID+"/Users/Provision" {
		t.Errorf("first request = %s %s", prov.Method, prov.Path)
	}
	wantBody := map[string]any{
		"username": id.Identity, "email": id.Email, "full_name": id.FullName,
		"roles": []any{"agent", "supervisor"}, "worker": map[string]any{},
	}
	if got := prov.JSON(); !reflect.DeepEqual(got, wantBody) {
		t.Errorf("provision body = %v, want %v", got, wantBody)
	}
	if mint.Method != http.MethodPost || mint.Path != "/v4/Instances/"+flextest.InstanceSID+"/Users/"+u.FlexUserSID+"/Tokens" {
		t.Errorf("second request = %s %s", mint.Method, mint.Path)
	}
	if got := string(mint.Body); got != `{"ttl":2700}` {
		t.Errorf("token body = %s", got)
	}
	for _, r := range reqs {
		if r.ContentType != "application/json" {
			t.Errorf("%s Content-Type = %q", r.Path, r.ContentType)
		}
	}
}

func TestProvisionAuthHeaderIsBasicAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, flextest.Options{}, nil)
	if _, err := e.c.Provision(t.Context(), goodCreds, flextest.InstanceSID, alice(), time.Hour); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if _, _, err := e.c.FindUser(t.Context(), goodCreds, flextest.InstanceSID, "alice@example.com"); err != nil {
		t.Fatalf("FindUser: %v", err)
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(flextest.APIKeySID+":"+flextest.APISecret))
	for _, r := range e.srv.Requests() {
		if r.Authorization != want {
			t.Errorf("%s %s: Authorization = %q, want %q", r.Method, r.Path, r.Authorization, want)
		}
		if !r.BasicOK || r.BasicUser != flextest.APIKeySID || r.BasicPassword != flextest.APISecret {
			t.Errorf("%s %s: basic auth = %v %q", r.Method, r.Path, r.BasicOK, r.BasicUser)
		}
	}
}

func TestProvisionSecondLoginReplacesAttributes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Identity)
	}{
		{"removed role is removed", func(id *Identity) { id.Roles = []string{"agent"} }},
		{"roles replaced entirely", func(id *Identity) { id.Roles = []string{"admin"} }},
		{"role added", func(id *Identity) { id.Roles = append(id.Roles, "admin") }},
		{"full name changed", func(id *Identity) { id.FullName = "Alice Renamed" }},
		{"email changed", func(id *Identity) { id.Email = "alice.new@example.com" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, flextest.Options{}, nil)
			first := alice()
			tok1, err := e.c.Provision(t.Context(), goodCreds, flextest.InstanceSID, first, time.Hour)
			if err != nil {
				t.Fatalf("first login: %v", err)
			}
			second := alice()
			tt.change(&second)
			tok2, err := e.c.Provision(t.Context(), goodCreds, flextest.InstanceSID, second, time.Hour)
			if err != nil {
				t.Fatalf("second login: %v", err)
			}
			users := e.srv.Users()
			if len(users) != 1 {
				t.Fatalf("users = %d, want 1", len(users))
			}
			u := users[0]
			if u.FullName != second.FullName || u.Email != second.Email || !reflect.DeepEqual(u.Roles, second.Roles) {
				t.Errorf("stored = %q %q %v, want %q %q %v", u.FullName, u.Email, u.Roles,
					second.FullName, second.Email, second.Roles)
			}
			if tok1.FlexUserSID != tok2.FlexUserSID || u.Version != 2 {
				t.Errorf("second login made user %s (version %d), want update of %s", tok2.FlexUserSID, u.Version, tok1.FlexUserSID)
			}
			// The full role set is sent, never a delta.
			provs := e.srv.RequestsTo(http.MethodPost, "/Users/Provision")
			if got := provs[len(provs)-1].JSON()["roles"]; len(got.([]any)) != len(second.Roles) {
				t.Errorf("roles sent = %v, want %v", got, second.Roles)
			}
		})
	}
}

// Flex documents email and full_name as required (1..256 characters), so a
// cleared attribute cannot be cleared in Flex: the login is refused with the
// field named, nothing is sent, and the stored user is left as it was.
func TestProvisionClearedAttributeIsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		change    func(*Identity)
		wantField string
	}{
		{"cleared email", func(id *Identity) { id.Email = "" }, "email"},
		{"cleared full name", func(id *Identity) { id.FullName = "" }, "full_name"},
		{"no roles", func(id *Identity) { id.Roles = nil }, "roles"},
		{"empty role", func(id *Identity) { id.Roles = []string{"agent", ""} }, "roles[1]"},
		{"email too long", func(id *Identity) { id.Email = strings.Repeat("a", 250) + "@x.test" }, "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, flextest.Options{}, nil)
			if _, err := e.c.Provision(t.Context(), goodCreds, flextest.InstanceSID, alice(), time.Hour); err != nil {
				t.Fatalf("first login: %v", err)
			}
			before := len(e.srv.Requests())
			second := alice()
			tt.change(&second)
			_, err := e.c.Provision(t.Context(), goodCreds, flextest.InstanceSID, second, time.Hour)
			wantCode(t, err, samlflex.CodeFlexRejected)
			if !strings.Contains(err.Error(), tt.wantField) {
				t.Errorf("error %q does not name %s", err, tt.wantField)
			}
			if n := len(e.srv.Requests()); n != before {
				t.Errorf("%d requests sent for a refused login", n-before)
			}
			if u, _ := e.srv.User("alice@example.com"); u.Email != alice().Email || u.Version != 1 {
				t.Errorf("stored user changed: %+v", u)
			}
		})
	}
}

func TestProvisionConcurrentFirstLogins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// conflictOnRace: the stand-in answers 409 while the first
		// create is in flight, and holds that create until it has
		// answered at least one 409, so the retry path is certainly
		// exercised (a short CreateDelay alone may let every request
		// arrive after the create on a loaded machine).
		conflictOnRace bool
	}{
		{"Twilio serializes racing creates", false},
		{"Twilio answers racing creates with 409", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := flextest.Options{CreateDelay: 5 * time.Millisecond, ConflictOnRace: tt.conflictOnRace}
			// The stand-in's handler reads srv; set once it exists.
			var srv atomic.Pointer[flextest.Server]
			if tt.conflictOnRace {
				release := make(chan struct{})
				var closeOnce sync.Once
				unhold := func() { closeOnce.Do(func() { close(release) }) }
				t.Cleanup(unhold) // never leave the stand-in's handler blocked
				opts.HoldCreate = func(string) {
					go func() {
						// Release the create once a racing request got 409.
						deadline := time.Now().Add(10 * time.Second)
						for conflictsOf(srv.Load()) == 0 && time.Now().Before(deadline) {
							time.Sleep(time.Millisecond)
						}
						unhold()
					}()
					<-release
				}
			}
			e := newEnv(t, opts, realTimeTinyBackoff)
			srv.Store(e.srv)
			const n = 20
			var wg sync.WaitGroup
			start := make(chan struct{})
			toks := make([]Token, n)
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					<-start
					toks[i], errs[i] = e.c.Provision(t.Context(), goodCreds, flextest.InstanceSID, alice(), time.Hour)
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("login %d: %v", i, err)
				}
			}
			users := e.srv.Users()
			if len(users) != 1 {
				t.Fatalf("users = %d, want exactly 1", len(users))
			}
			for i, tok := range toks {
				if tok.FlexUserSID != users[0].FlexUserSID || tok.AccessToken == "" {
					t.Errorf("login %d: token for %q", i, tok.FlexUserSID)
				}
			}
			conflicts := conflictsOf(e.srv)
			switch {
			case tt.conflictOnRace && conflicts == 0:
				t.Errorf("no provision request was answered 409: the racing-create retry path was not exercised")
			case !tt.conflictOnRace && conflicts != 0:
				t.Errorf("%d provision requests answered 409 by a stand-in that serializes creates", conflicts)
			}
			t.Logf("%d provision requests answered 409", conflicts)
		})
	}
}

// conflictsOf counts the Provision requests the stand-in answered 409.
func conflictsOf(srv *flextest.Server) int {
	n := 0
	for _, r := range srv.RequestsTo(http.MethodPost, "/Users/Provision") {
		if r.Status == http.StatusConflict {
			n++
		}
	}
	return n
}

func TestProvisionDeactivatedUserIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, flextest.Options{}, nil)
	if _, err := e.c.Provision(t.Context(), goodCreds, flextest.InstanceSID, alice(), time.Hour); err != nil {
		t.Fatalf("first login: %v", err)
	}
	e.srv.SetDeactivated("alice@example.com", true)
	_, err := e.c.Provision(t.Context(), goodCreds, flextest.InstanceSID, alice(), time.Hour)
	wantCode(t, err, samlflex.CodeFlexRejected)
	if n := len(e.srv.Tokens()); n != 1 {
		t.Errorf("tokens minted = %d, want only the first login's", n)
	}
}

func TestProvisionErrors(t *testing.T) {
	t.Parallel()
	otherInstance := "GO99999999999999999999999999999999"
	tests := []struct {
		name         string
		setup        func(*flextest.Server)
		creds        Creds
		instance     string
		wantCode     samlflex.Code
		wantRequests int
	}{
		{"key rejected (20003)", func(s *flextest.Server) { s.RejectCredentials(true) }, goodCreds, flextest.InstanceSID,
			samlflex.CodeFlexCredentialsInvalid, 1},
		{"wrong secret", nil, Creds{Username: flextest.APIKeySID, Secret: "wrong"}, flextest.InstanceSID,
			samlflex.CodeFlexCredentialsInvalid, 1},
		{"unknown instance (20404)", nil, goodCreds, otherInstance, samlflex.CodeFlexInstanceNotFound, 1},
		{"instance hidden", func(s *flextest.Server) { s.HideInstance(true) }, goodCreds, flextest.InstanceSID,
			samlflex.CodeFlexInstanceNotFound, 1},
		{"TaskRouter active-worker limit (14240) is not a user limit", func(s *flextest.Server) { s.SetUserLimit(1) }, goodCreds, flextest.InstanceSID,
			samlflex.CodeFlexUnavailable, 1},
		{"malformed instance SID", nil, goodCreds, "GO123/../../v1", samlflex.CodeFlexInstanceNotFound, 0},
		{"empty secret", nil, Creds{Username: flextest.APIKeySID}, flextest.InstanceSID,
			samlflex.CodeFlexCredentialsInvalid, 0},
		{"colon in key SID", nil, Creds{Username: "SK:x", Secret: "s"}, flextest.InstanceSID,
			samlflex.CodeFlexCredentialsInvalid, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, flextest.Options{}, nil)
			if strings.HasPrefix(tt.name, "TaskRouter") {
				// Fill the instance with another user first.
				other := alice()
				other.Identity = "bob@example.com"
				if _, err := e.c.Provision(t.Context(), goodCreds, flextest.InstanceSID, other, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			before := len(e.srv.Requests())
			if tt.setup != nil {
				tt.setup(e.srv)
			}
			_, err := e.c.Provision(t.Context(), tt.creds, tt.instance, alice(), time.Hour)
			wantCode(t, err, tt.wantCode)
			if got := len(e.srv.Requests()) - before; got != tt.wantRequests {
				t.Errorf("requests = %d, want %d (no retry)", got, tt.wantRequests)
			}
			if len(e.clock.Slept()) != 0 {
				t.Errorf("slept %v before failing; 4xx must not be retried", e.clock.Slept())
			}
		})
	}
}

// The API secret, the minted tokens and raw identities must never reach
// the logs, whatever happens; nor may the secret reach an error's text.
func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	e := newEnv(t, flextest.Options{CreateDelay: time.Millisecond, ConflictOnRace: true}, func(o *Options) {
		realTimeTinyBackoff(o)
		o.Timeout, o.MaxElapsed, o.MaxRetryAfter = 100*time.Millisecond, 300*time.Millisecond, 2*time.Millisecond
	})
	ctx := t.Context()
	var errs []error
	record := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	var tokens []string
	tok, err := e.c.Provision(ctx, goodCreds, flextest.InstanceSID, alice(), time.Hour)
	record(err)
	tokens = append(tokens, tok.AccessToken)
	e.c.log.Info("token value", "token", tok, "creds", goodCreds) // LogValue must redact

	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			id := alice()
			id.Identity = "carol@example.com"
			_, err := e.c.Provision(ctx, goodCreds, flextest.InstanceSID, id, time.Hour)
			if err != nil {
				t.Errorf("concurrent login: %v", err)
			}
		})
	}
	wg.Wait()

	e.srv.Throttle(2, "1")
	_, err = e.c.Provision(ctx, goodCreds, flextest.InstanceSID, alice(), time.Hour)
	record(err)
	e.srv.FailWith(http.StatusInternalServerError)
	_, err = e.c.Provision(ctx, goodCreds, flextest.InstanceSID, alice(), time.Hour)
	record(err)
	e.srv.FailWith(0)
	e.srv.RejectCredentials(true)
	_, err = e.c.Provision(ctx, goodCreds, flextest.InstanceSID, alice(), time.Hour)
	record(err)
	_, err = e.c.Check(ctx, goodCreds, flextest.InstanceSID)
	record(err)
	e.srv.RejectCredentials(false)
	for _, m := range e.srv.Tokens() {
		tokens = append(tokens, m.AccessToken)
	}

	logs := e.logs.String()
	if !strings.Contains(logs, "retrying") || !strings.Contains(logs, "gave up") {
		t.Fatalf("expected retry records in the logs, got:\n%s", logs)
	}
	basic := base64.StdEncoding.EncodeToString([]byte(flextest.APIKeySID + ":" + flextest.APISecret))
	secrets := append([]string{flextest.APISecret, basic, "alice@example.com", "carol@example.com"}, tokens...)
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain %q:\n%s", s, logs)
		}
	}
	for _, err := range errs {
		for _, s := range append([]string{flextest.APISecret, basic}, tokens...) {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error %q contains a secret", err)
			}
		}
	}
}
