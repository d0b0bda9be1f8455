package httpapi

import (
	"strings"
	"testing"
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
			rows: []traceRow{{Check: "roles", Expected: "agent", Received: `<script>alert("x")</script>`, Setting: "roles & more", Note: `"><img src=x>`}},
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
