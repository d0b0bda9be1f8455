package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// TestTraceTableEscapes: the table shows each failed check with both
// values, and a received value (IdP- or attacker-controlled) is text, never
// markup.
func TestTraceTableEscapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rows     []traceRow
		want     []string
		notWant  []string
		noTables bool
	}{
		{name: "no rows, no table", rows: nil, noTables: true},
		{name: "two failures, both values",
			rows: []traceRow{
				{Check: "audience", Expected: "https://sso.example.com/v1/Accounts/AC1/saml2/metadata", Received: "https://iam.twilio.com/v1/Accounts/AC1/saml2/metadata", Setting: "Salesforce connected app: Entity Id"},
				{Check: "destination", Expected: "https://sso.example.com/v1/Accounts/AC1/saml2", Received: "https://iam.twilio.com/v1/Accounts/AC1/saml2", Setting: "Salesforce connected app: ACS URL"},
			},
			want: []string{"<code>audience</code>", "<code>destination</code>", "https://iam.twilio.com/v1/Accounts/AC1/saml2/metadata", "Salesforce connected app: ACS URL"}},
		{name: "script in received value",
			rows:    []traceRow{{Check: "roles", Expected: "agent", Received: `<script>alert("x")</script>`, Setting: "roles & more", Note: `"><img src=x>`}},
			want:    []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "roles &amp; more", "&#34;&gt;&lt;img src=x&gt;"},
			notWant: []string{"<script>", "<img"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			errorPage(&b, "Sign-in failed", "msg", "audience_mismatch", "req-1", tc.rows...)
			page := b.String()
			if got := strings.Contains(page, `<table id="checks">`); got == tc.noTables {
				t.Fatalf("table present %v, want %v:\n%s", got, !tc.noTables, page)
			}
			for _, w := range tc.want {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q:\n%s", w, page)
				}
			}
			for _, nw := range tc.notWant {
				if strings.Contains(page, nw) {
					t.Errorf("page holds %q:\n%s", nw, page)
				}
			}
			if !strings.HasSuffix(page, "</body></html>\n") {
				t.Errorf("page not closed:\n%s", page)
			}
		})
	}
}

// TestRefusalShowsAndLogsTrace: a response from another org's issuer that
// also lacks roles is refused with the first failure as the code
// (X-Samlflex-Error), the page lists both failures with both values, and
// the log line of the request id holds the whole trace as attributes.
func TestRefusalShowsAndLogsTrace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(a *samlflex.Account) { a.IdPIssuer = "https://other.my.salesforce.com" })
	resp := e.do(acsPost(t, samlflextest.Golden(t, "no-roles.b64"), "", e.cookie(t, sid, goldenReqID, now.Add(time.Minute))))
	page := wantError(t, resp, http.StatusForbidden, samlflex.CodeIssuerMismatch)
	for _, want := range []string{`<table id="checks">`, "<code>issuer</code>", "https://other.my.salesforce.com", "https://acme.my.salesforce.com",
		"<code>roles</code>", "no attribute roles", "attributes received: email, is_portal_user, userId, username"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<code>audience</code>") {
		t.Errorf("page lists a check that passed:\n%s", page)
	}

	var line struct {
		RequestID string `json:"request_id"`
		Code      string `json:"code"`
		Trace     struct {
			Failed []string `json:"failed"`
			Issuer struct {
				OK       bool   `json:"ok"`
				Code     string `json:"code"`
				Expected string `json:"expected"`
				Received string `json:"received"`
				Setting  string `json:"setting"`
			} `json:"issuer"`
			Audience struct {
				OK bool `json:"ok"`
			} `json:"audience"`
		} `json:"trace"`
	}
	found := false
	for _, l := range strings.Split(e.logs.String(), "\n") {
		if !strings.Contains(l, `"msg":"refused"`) {
			continue
		}
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		found = true
		if strings.Contains(l, "SAMLResponse") || strings.Contains(l, "jane.doe") {
			t.Errorf("log holds the response or the NameID: %s", l)
		}
	}
	tr := line.Trace
	if !found || line.RequestID != resp.Header.Get("X-Request-Id") || line.Code != "issuer_mismatch" ||
		strings.Join(tr.Failed, ",") != "issuer,roles" || tr.Issuer.OK || tr.Issuer.Code != "issuer_mismatch" ||
		tr.Issuer.Expected != "https://other.my.salesforce.com" || tr.Issuer.Received != "https://acme.my.salesforce.com" ||
		tr.Issuer.Setting == "" || !tr.Audience.OK {
		t.Fatalf("log line %+v\n%s", line, e.logs.String())
	}
}

// TestStatusPageNeverEchoesStatusMessage: the StatusMessage is free text
// that anyone can post unsigned: the page shows the standard status name
// only, the log has the message.
func TestStatusPageNeverEchoesStatusMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	resp := e.do(acsPost(t, samlflextest.Golden(t, "status-denied.b64"), "", e.cookie(t, sid, goldenReqID, now.Add(time.Minute))))
	page := wantError(t, resp, http.StatusForbidden, samlflex.CodeStatusNotSuccess)
	if !strings.Contains(page, "<code>status</code>") || !strings.Contains(page, "Requester/RequestDenied") || !strings.Contains(page, "access to the connected app") {
		t.Errorf("page:\n%s", page)
	}
	if strings.Contains(page, "User does not have access") {
		t.Errorf("page echoes the StatusMessage:\n%s", page)
	}
	if !strings.Contains(e.logs.String(), `"message":"StatusMessage: User does not have access to this service provider"`) {
		t.Errorf("log lacks the StatusMessage:\n%s", e.logs.String())
	}
}
