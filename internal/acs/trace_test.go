package acs

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// TestHandleCombinesTraces: the error of a refused login carries one trace
// with Verify's checks and Map's: a role typo alone (Verify passes) and a
// role typo behind another org's issuer (Verify fails) both list the
// roles check with what arrived.
func TestHandleCombinesTraces(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		edit     func(*samlflex.Account)
		response string
		wantCode samlflex.Code
		wantFail string
	}{
		{name: "no roles: Map's failure after every Verify check passed", response: "no-roles.b64",
			wantCode: samlflex.CodeNoRoles, wantFail: "roles"},
		{name: "no roles behind another org's issuer", response: "no-roles.b64",
			edit:     func(a *samlflex.Account) { a.IdPIssuer = "https://other.my.salesforce.com" },
			wantCode: samlflex.CodeIssuerMismatch, wantFail: "issuer,roles"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			acct := testAccount(t, samlflex.IdPInitiatedRefuse)
			if tc.edit != nil {
				tc.edit(&acct)
			}
			f := newFixture(t, acct, nil)
			_, err := f.svc.Handle(t.Context(), Input{AccountSID: testSID, SAMLResponse: []byte(samlflextest.Golden(t, tc.response)),
				LoginCookie: f.cookie(t, session.LoginState{RequestID: goldenReqID}), LogID: "req-1"})
			if samlflex.CodeOf(err) != tc.wantCode {
				t.Fatalf("code %s (%v), want %s", samlflex.CodeOf(err), err, tc.wantCode)
			}
			tr := samlflex.TraceOf(err)
			var failed []string
			for _, c := range tr.Failed() {
				failed = append(failed, c.Name)
			}
			if strings.Join(failed, ",") != tc.wantFail {
				t.Fatalf("failed %v, want %s: %+v", failed, tc.wantFail, tr)
			}
			if c, _ := tr.Check(samlflex.CheckSignature); !c.OK {
				t.Fatalf("the trace lacks Verify's checks: %+v", tr.Checks)
			}
			if c, _ := tr.Check(samlflex.CheckRoles); !strings.Contains(c.Note, "userId, username") {
				t.Fatalf("roles check %+v", c)
			}
			if f.st.marks.Load() != 0 {
				t.Fatal("a refused login burnt its assertion ID")
			}
		})
	}
}

// TestTraceLogValue: one group per check, the failed ones listed in order.
func TestTraceLogValue(t *testing.T) {
	t.Parallel()
	tr := &samlflex.Trace{Checks: []samlflex.Check{
		{Name: "issuer", Expected: "https://a", Received: "https://b", Setting: "--idp-issuer", Code: samlflex.CodeIssuerMismatch},
		{Name: "audience", Expected: "x", Received: "x", OK: true},
		{Name: "roles", Expected: "roles", Received: strings.Repeat("r", 1000), Note: "n", Setting: "s", Code: samlflex.CodeNoRoles},
	}}
	var b strings.Builder
	slog.New(slog.NewJSONHandler(&b, nil)).Info("refused", slog.Any("trace", TraceLogValue(tr)))
	var line struct {
		Trace struct {
			Failed []string `json:"failed"`
		} `json:"trace"`
	}
	if err := json.Unmarshal([]byte(b.String()), &line); err != nil {
		t.Fatal(err)
	}
	var all struct {
		Trace map[string]json.RawMessage `json:"trace"`
	}
	if err := json.Unmarshal([]byte(b.String()), &all); err != nil {
		t.Fatal(err)
	}
	raw := map[string]map[string]any{}
	for _, name := range []string{"issuer", "audience", "roles"} {
		var g map[string]any
		if err := json.Unmarshal(all.Trace[name], &g); err != nil {
			t.Fatalf("%s: %v: %s", name, err, b.String())
		}
		raw[name] = g
	}
	if strings.Join(line.Trace.Failed, ",") != "issuer,roles" {
		t.Fatalf("failed %v", line.Trace.Failed)
	}
	if raw["issuer"]["received"] != "https://b" || raw["issuer"]["setting"] != "--idp-issuer" || raw["audience"]["ok"] != true || raw["audience"]["setting"] != nil {
		t.Fatalf("groups %v", raw)
	}
	if r, _ := raw["roles"]["received"].(string); len(r) > MaxLogText+32 {
		t.Fatalf("received value not cut: %d bytes", len(r))
	}
	if TraceLogValue(nil).Kind() != slog.KindGroup {
		t.Fatal("nil trace")
	}
}
