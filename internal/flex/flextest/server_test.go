package flextest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// call sends one request to s and decodes the JSON answer.
func call(t *testing.T, s *Server, method, path, contentType, body string, auth bool) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth {
		req.SetBasicAuth(APIKeySID, APISecret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, m
}

const (
	users     = "/v4/Instances/" + InstanceSID + "/Users"
	provision = users + "/Provision"
	alice     = `{"username":"alice","email":"a@example.com","full_name":"Alice","roles":["agent"],"worker":{}}`
)

func TestErrorsHaveTwilioShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		setup       func(*Server)
		method      string
		path        string
		contentType string
		body        string
		auth        bool
		wantStatus  int
		wantCode    float64 // 0: no code
	}{
		{"no auth", nil, "GET", users, "", "", false, 401, 20003},
		{"credentials rejected", func(s *Server) { s.RejectCredentials(true) }, "GET", users, "", "", true, 401, 20003},
		{"other instance", nil, "GET", "/v4/Instances/GO0000000000000000000000000000000f/Users", "", "", true, 404, 20404},
		{"hidden instance", func(s *Server) { s.HideInstance(true) }, "GET", users, "", "", true, 404, 20404},
		{"v1 path", nil, "GET", "/v1/Instances/" + InstanceSID + "/Users", "", "", true, 404, 20404},
		{"wrong method", nil, "DELETE", users, "", "", true, 405, 20004},
		{"form-encoded provision", nil, "POST", provision, "application/x-www-form-urlencoded", "username=alice", true, 400, 0},
		{"unknown field", nil, "POST", provision, "application/json",
			`{"username":"a","email":"a@b","full_name":"A","roles":["agent"],"worker":{},"friendly_name":"x"}`, true, 400, 0},
		{"missing email", nil, "POST", provision, "application/json",
			`{"username":"a","full_name":"A","roles":["agent"],"worker":{}}`, true, 400, 0},
		{"empty email", nil, "POST", provision, "application/json",
			`{"username":"a","email":"","full_name":"A","roles":["agent"],"worker":{}}`, true, 400, 0},
		{"no worker", nil, "POST", provision, "application/json",
			`{"username":"a","email":"a@b","full_name":"A","roles":["agent"]}`, true, 400, 0},
		{"empty roles", nil, "POST", provision, "application/json",
			`{"username":"a","email":"a@b","full_name":"A","roles":[],"worker":{}}`, true, 400, 0},
		{"500 forever", func(s *Server) { s.FailWith(500) }, "GET", users, "", "", true, 500, 20500},
		{"token for unknown user", nil, "POST", users + "/FU0000000000000000000000000000dead/Tokens",
			"application/json", `{"ttl":60}`, true, 404, 20404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := New(t, Options{})
			if tt.setup != nil {
				tt.setup(s)
			}
			status, _, body := call(t, s, tt.method, tt.path, tt.contentType, tt.body, tt.auth)
			if status != tt.wantStatus || body["status"] != float64(tt.wantStatus) {
				t.Errorf("status = %d, body status %v, want %d", status, body["status"], tt.wantStatus)
			}
			if msg, _ := body["message"].(string); msg == "" {
				t.Error("no message")
			}
			if code, has := body["code"]; tt.wantCode == 0 && has || tt.wantCode != 0 && code != tt.wantCode {
				t.Errorf("code = %v, want %v", code, tt.wantCode)
			}
			if info, _ := body["more_info"].(string); tt.wantCode != 0 &&
				!strings.HasSuffix(info, fmt.Sprintf("/docs/errors/%d", int(tt.wantCode))) {
				t.Errorf("more_info = %q", info)
			}
			if n := len(s.Users()); n != 0 {
				t.Errorf("a failed request stored %d users", n)
			}
			if r := s.Requests(); len(r) != 1 || r[0].Status != tt.wantStatus {
				t.Errorf("recorded %+v", r)
			}
		})
	}
}

func TestProvisionCreatesThenUpdates(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s := New(t, Options{Now: func() time.Time { return now }})

	status, _, created := call(t, s, "POST", provision, "application/json", alice, true)
	if status != http.StatusCreated {
		t.Fatalf("create status = %d", status)
	}
	worker, _ := created["worker"].(map[string]any)
	if created["flex_user_sid"] == "" || worker["worker_sid"] == nil || created["version"] != float64(1) {
		t.Errorf("create answer = %v", created)
	}
	sid := created["flex_user_sid"].(string)

	update := strings.Replace(alice, `["agent"]`, `["supervisor"]`, 1)
	status, _, updated := call(t, s, "POST", provision, "application/json; charset=utf-8", update, true)
	if status != http.StatusOK || updated["flex_user_sid"] != sid || updated["version"] != float64(2) {
		t.Errorf("update = %d %v", status, updated)
	}
	if u, _ := s.User("alice"); len(u.Roles) != 1 || u.Roles[0] != "supervisor" {
		t.Errorf("roles = %v, want [supervisor]", u.Roles)
	}

	_, _, page := call(t, s, "GET", users+"?Username=alice", "", "", true)
	list, _ := page["users"].([]any)
	if page["account_sid"] != AccountSID || page["instance_sid"] != InstanceSID || len(list) != 1 {
		t.Fatalf("lookup = %v", page)
	}
	if u := list[0].(map[string]any); u["worker_sid"] == nil || u["flex_user_sid"] != sid {
		t.Errorf("GET shape = %v", u)
	}
	_, _, none := call(t, s, "GET", users+"?Username=bob", "", "", true)
	if l, _ := none["users"].([]any); len(l) != 0 {
		t.Errorf("lookup of bob = %v", none)
	}
	status, _, one := call(t, s, "GET", users+"/"+sid, "", "", true)
	if status != http.StatusOK || one["username"] != "alice" {
		t.Errorf("fetch = %d %v", status, one)
	}

	status, _, tok := call(t, s, "POST", users+"/"+sid+"/Tokens", "application/json", "", true)
	info, _ := tok["token_info"].(map[string]any)
	if status != http.StatusOK || tok["access_token"] == "" || info["expiration"] != "2026-03-02T10:00:00Z" ||
		info["flex_user_sid"] != sid || info["username"] != "alice" {
		t.Errorf("default-ttl token = %d %v", status, tok)
	}
	if m := s.Tokens(); len(m) != 1 || m[0].TTL != 3600 || m[0].AccessToken != tok["access_token"] {
		t.Errorf("minted = %+v", m)
	}
}

func TestThrottleThenServe(t *testing.T) {
	t.Parallel()
	s := New(t, Options{})
	s.Throttle(2, "3")
	for i := range 2 {
		status, h, body := call(t, s, "GET", users, "", "", true)
		if status != http.StatusTooManyRequests || h.Get("Retry-After") != "3" || body["code"] != float64(20429) {
			t.Errorf("request %d: %d %q %v", i, status, h.Get("Retry-After"), body)
		}
	}
	if status, _, _ := call(t, s, "GET", users, "", "", true); status != http.StatusOK {
		t.Errorf("third request = %d", status)
	}
}

func TestUserLimitAndDeactivation(t *testing.T) {
	t.Parallel()
	s := New(t, Options{})
	s.SetUserLimit(1)
	if status, _, _ := call(t, s, "POST", provision, "application/json", alice, true); status != http.StatusCreated {
		t.Fatalf("first user = %d", status)
	}
	bob := strings.ReplaceAll(alice, `"alice"`, `"bob"`)
	status, _, body := call(t, s, "POST", provision, "application/json", bob, true)
	if status != http.StatusBadRequest || body["code"] != float64(UserLimitCode) {
		t.Errorf("over the limit = %d %v", status, body)
	}
	// Updates of existing users are not creations.
	if status, _, _ := call(t, s, "POST", provision, "application/json", alice, true); status != http.StatusOK {
		t.Errorf("update at the limit = %d", status)
	}
	if !s.SetDeactivated("alice", true) || s.SetDeactivated("nobody", true) {
		t.Fatal("SetDeactivated")
	}
	_, _, page := call(t, s, "GET", users+"?Username=alice", "", "", true)
	u := page["users"].([]any)[0].(map[string]any)
	if u["deactivated"] != true || u["worker_sid"] != nil {
		t.Errorf("deactivated user = %v", u)
	}
	if status, _, _ := call(t, s, "POST", provision, "application/json", bob, true); status != http.StatusCreated {
		t.Errorf("a deactivated user frees its place, got %d", status)
	}
}

func TestInstanceRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       Options
		setup      func(*Server)
		path       string
		account    string
		user, pass string
		wantStatus int
		wantState  string
	}{
		{"API key", Options{}, nil, "/v2/Instances/" + InstanceSID, AccountSID, APIKeySID, APISecret, 200, "ready"},
		{"Auth Token", Options{}, nil, "/v2/Instances/" + InstanceSID, AccountSID, AccountSID, AuthToken, 200, "ready"},
		{"other account's Auth Token username", Options{}, nil, "/v2/Instances/" + InstanceSID, AccountSID,
			"AC00000000000000000000000000000002", AuthToken, 401, ""},
		{"no account header", Options{}, nil, "/v2/Instances/" + InstanceSID, "", APIKeySID, APISecret, 400, ""},
		{"unknown instance", Options{}, nil, "/v2/Instances/GO0000000000000000000000000000000f", AccountSID, APIKeySID, APISecret, 404, ""},
		{"hidden instance", Options{}, func(s *Server) { s.HideInstance(true) }, "/v2/Instances/" + InstanceSID, AccountSID, APIKeySID, APISecret, 404, ""},
		{"status set", Options{InstanceStatus: "creation-in-progress"}, nil, "/v2/Instances/" + InstanceSID, AccountSID, APIKeySID, APISecret, 200, "creation-in-progress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := New(t, tt.opts)
			if tt.setup != nil {
				tt.setup(s)
			}
			req, _ := http.NewRequestWithContext(t.Context(), "GET", s.URL+tt.path, nil)
			req.SetBasicAuth(tt.user, tt.pass)
			if tt.account != "" {
				req.Header.Set("I-Twilio-Auth-Account", tt.account)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%v)", resp.StatusCode, tt.wantStatus, m)
			}
			if tt.wantState != "" && (m["status"] != tt.wantState || m["flex_instance_sid"] != InstanceSID || m["account_sid"] != AccountSID) {
				t.Errorf("answer = %v", m)
			}
		})
	}
}

func TestFailNextAndAssumedRefusals(t *testing.T) {
	t.Parallel()
	s := New(t, Options{MaxTTL: 60})
	s.FailNext(2, 409, 45796)
	for range 2 {
		if status, _, body := call(t, s, "GET", users, "", "", true); status != 409 || body["code"] != float64(45796) {
			t.Errorf("injected = %d %v", status, body)
		}
	}
	if status, _, _ := call(t, s, "GET", users, "", "", true); status != 200 {
		t.Errorf("after the injected failures = %d", status)
	}
	wfo := strings.Replace(alice, `["agent"]`, `["agent","wfo.full_access"]`, 1)
	if status, _, _ := call(t, s, "POST", provision, "application/json", wfo, true); status != 400 {
		t.Errorf("wfo.* role = %d, want 400 (assumed)", status)
	}
	_, _, created := call(t, s, "POST", provision, "application/json", alice, true)
	sid := created["flex_user_sid"].(string)
	if status, _, _ := call(t, s, "POST", users+"/"+sid+"/Tokens", "application/json", `{"ttl":61}`, true); status != 400 {
		t.Errorf("ttl over MaxTTL = %d, want 400 (assumed)", status)
	}
	status, _, dep := call(t, s, "POST", users+"/"+sid+"/Deprovision", "", "", true)
	if status != 200 || dep["deactivated"] != true || dep["worker_sid"] != nil {
		t.Errorf("deprovision = %d %v", status, dep)
	}
	if status, _, _ := call(t, s, "POST", users+"/"+sid+"/Tokens", "application/json", `{"ttl":60}`, true); status != 404 {
		t.Errorf("token of a deactivated user = %d, want 404 (assumed)", status)
	}
}

func TestDocumentedAlternativeShapes(t *testing.T) {
	t.Parallel()
	s := New(t, Options{NoWorkerSIDInLookup: true, NoDeactivatedField: true, UnknownUser404: true, CreateStatus: 200})
	if status, _, _ := call(t, s, "GET", users+"?Username=nobody", "", "", true); status != 404 {
		t.Errorf("unknown username = %d, want 404", status)
	}
	if status, _, _ := call(t, s, "POST", provision, "application/json", alice, true); status != 200 {
		t.Errorf("create = %d, want 200", status)
	}
	_, _, page := call(t, s, "GET", users+"?Username=alice", "", "", true)
	u := page["users"].([]any)[0].(map[string]any)
	for _, k := range []string{"worker_sid", "workspace_sid", "deactivated", "deactivated_date"} {
		if _, has := u[k]; has {
			t.Errorf("lookup has %s: %v", k, u)
		}
	}
}
