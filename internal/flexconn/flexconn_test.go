package flexconn_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/flex"
	"github.com/samlflex/samlflex/internal/flex/flextest"
	"github.com/samlflex/samlflex/internal/flexconn"
	"github.com/samlflex/samlflex/internal/httpapi"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/store/boltstore"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

const (
	base        = samlflextest.BaseURL
	sid         = samlflextest.AccountSID
	instanceSID = flextest.InstanceSID
	keySID      = flextest.APIKeySID
	apiSecret   = flextest.APISecret
	delivery    = "https://flex-app.example.com/login"
)

var now = samlflextest.Now

type env struct {
	h    http.Handler
	tw   *flextest.Server
	logs *samlflextest.LogBuffer
}

func newEnv(t *testing.T, withSecret bool) *env {
	t.Helper()
	return newEnvCreds(t, withSecret, false)
}

// newEnvCreds with authToken connects with the Account SID and Auth Token
// instead of an API key.
func newEnvCreds(t *testing.T, withSecret, authToken bool) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := boltstore.Open(filepath.Join(dir, "samlflex.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tw := flextest.New(t, flextest.Options{Now: func() time.Time { return now }, AccountSID: sid})
	user, secret := keySID, apiSecret
	if authToken {
		user, secret = sid, flextest.AuthToken
	}
	acct := samlflextest.Account(t)
	// These tests post an unsolicited golden response to reach the Flex
	// step in one request; the default bounce has its own tests in
	// internal/httpapi and the browser suite.
	acct.IdPInitiated = samlflex.IdPInitiatedAccept
	acct.Flex = &samlflex.FlexConnection{InstanceSID: instanceSID, APIKeySID: user, APIBaseURL: tw.URL, DeliveryURL: delivery}
	if err := acct.Validate(now); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(context.Background(), acct, 0, now); err != nil {
		t.Fatal(err)
	}
	secrets := flexconn.NewFileSecrets(dir)
	if withSecret {
		if err := secrets.PutAPISecret(context.Background(), sid, secret); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(filepath.Join(dir, "flex-secrets.json")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("secret file mode: %v %v", fi.Mode(), err)
		}
	}
	logger, logs := samlflextest.NewLogger(nil)
	prov := &flexconn.Provisioner{Secrets: secrets, NewClient: func(baseURL string) (*flex.Client, error) {
		return flex.New(flex.Options{BaseURL: baseURL, Timeout: 500 * time.Millisecond, MaxElapsed: 2 * time.Second, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond, Logger: logger})
	}}
	cur := samlflextest.KeyPair(t, keys.RSA2048, "cur")
	h, err := httpapi.New(httpapi.Config{BaseURL: base, Store: st, Keys: samlflextest.StaticKeys{Set: &keys.Set{Current: cur}}, Logger: logger,
		Now: samlflextest.Clock, Provisioner: prov})
	if err != nil {
		t.Fatal(err)
	}
	return &env{h: h, tw: tw, logs: logs}
}

func (e *env) post(t *testing.T, file string) *http.Response {
	t.Helper()
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, samlflextest.ACSPost(samlflextest.Golden(t, file), ""))
	return w.Result()
}

// TestLoginProvisionsFlexUser: a verified login provisions the Flex user
// with the mapped name, email and roles, mints a Flex token with the
// account's TTL, and delivers that token (not a samlflex token) to the
// Flex app.
func TestLoginProvisionsFlexUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	r := e.post(t, "unsolicited.b64")
	if r.StatusCode != http.StatusSeeOther {
		body, _ := io.ReadAll(r.Body)
		t.Fatalf("%d %s\n%s", r.StatusCode, r.Header.Get("X-Samlflex-Error"), body)
	}
	u, ok := e.tw.User("jane.doe@acme.example")
	if !ok || u.FullName != "Jane Doe" || u.Email != "jane.doe@acme.example" || !slices.Equal(u.Roles, []string{"agent", "supervisor"}) {
		t.Fatalf("user %+v %v", u, ok)
	}
	toks := e.tw.Tokens()
	if len(toks) != 1 || toks[0].TTL != 3600 {
		t.Fatalf("tokens %+v", toks)
	}
	if loc := r.Header.Get("Location"); loc != delivery+"#token="+toks[0].AccessToken {
		t.Fatalf("location %q, want the Flex token at the delivery URL", loc)
	}
	for _, req := range e.tw.Requests() {
		if !req.BasicOK || req.BasicUser != keySID || req.BasicPassword != apiSecret {
			t.Fatalf("request %s %s without the account's API key", req.Method, req.Path)
		}
	}
	if strings.Contains(e.logs.String(), apiSecret) || strings.Contains(e.logs.String(), toks[0].AccessToken) {
		t.Fatal("secret or token in the log")
	}
}

// TestLoginWithAuthToken: a connection that names the Account SID
// authenticates with the stored Auth Token.
func TestLoginWithAuthToken(t *testing.T) {
	t.Parallel()
	e := newEnvCreds(t, true, true)
	r := e.post(t, "unsolicited.b64")
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("%d %s", r.StatusCode, r.Header.Get("X-Samlflex-Error"))
	}
	reqs := e.tw.Requests()
	if len(reqs) == 0 {
		t.Fatal("no request to Twilio")
	}
	for _, req := range reqs {
		if req.BasicUser != sid || req.BasicPassword != flextest.AuthToken {
			t.Fatalf("request %s %s not authenticated with the Account SID and Auth Token", req.Method, req.Path)
		}
	}
	if strings.Contains(e.logs.String(), flextest.AuthToken) {
		t.Fatal("Auth Token in the log")
	}
}

func TestFlexFailuresAreClearPages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secret bool
		fault  func(*flextest.Server)
		status int
		code   samlflex.Code
	}{
		{"Twilio down", true, func(s *flextest.Server) { s.FailWith(http.StatusInternalServerError) }, 503, samlflex.CodeFlexUnavailable},
		{"bad API key", true, func(s *flextest.Server) { s.RejectCredentials(true) }, 502, samlflex.CodeFlexCredentialsInvalid},
		{"unknown instance", true, func(s *flextest.Server) { s.HideInstance(true) }, 502, samlflex.CodeFlexInstanceNotFound},
		{"no secret stored", false, func(*flextest.Server) {}, 502, samlflex.CodeFlexCredentialsInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.secret)
			tc.fault(e.tw)
			r := e.post(t, "unsolicited.b64")
			if r.StatusCode != tc.status || r.Header.Get("X-Samlflex-Error") != string(tc.code) || r.Header.Get("Location") != "" {
				t.Fatalf("%d %s %s", r.StatusCode, r.Header.Get("X-Samlflex-Error"), r.Header.Get("Location"))
			}
			if len(e.tw.Tokens()) != 0 {
				t.Fatal("a token was minted for a failed login")
			}
		})
	}
}

// TestLegacyHostedFlexDeliveryRefused: an account saved before `account
// put` refused the Twilio-hosted Flex UI as the delivery target is refused
// at login, before anything reaches Twilio.
func TestLegacyHostedFlexDeliveryRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ delivery, start string }{
		{"https://flex.twilio.com/agent-desktop", "https://agents.example.com/"},
		{"", "https://flex.twilio.com/agent-desktop"},
	} {
		tw := flextest.New(t, flextest.Options{})
		dir := t.TempDir()
		secrets := flexconn.NewFileSecrets(dir)
		if err := secrets.PutAPISecret(t.Context(), sid, apiSecret); err != nil {
			t.Fatal(err)
		}
		p := &flexconn.Provisioner{Secrets: secrets, NewClient: func(baseURL string) (*flex.Client, error) {
			return flex.New(flex.Options{BaseURL: baseURL})
		}}
		acct := &samlflex.Account{AccountSID: sid, StartURL: tc.start,
			Flex: &samlflex.FlexConnection{InstanceSID: instanceSID, APIKeySID: keySID, APIBaseURL: tw.URL, DeliveryURL: tc.delivery}}
		_, err := p.Provision(t.Context(), acct, samlflex.FlexIdentity{Identity: "a@example.com", FullName: "A", Email: "a@example.com", Roles: []string{"agent"}})
		if samlflex.CodeOf(err) != samlflex.CodeInvalidConfig {
			t.Errorf("%+v: err = %v, want invalid_config", tc, err)
		}
		if n := len(tw.Requests()); n != 0 {
			t.Errorf("%+v: %d requests reached Twilio", tc, n)
		}
	}
}
