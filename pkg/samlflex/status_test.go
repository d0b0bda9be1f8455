package samlflex

import (
	"strings"
	"testing"
)

// TestVerifyStatus: a failed login is explained by its standard status
// names only (never by arbitrary text from the response), and the
// StatusMessage reaches the log detail. The Status is read before the
// signature check, so editing it in a signed fixture is fine here.
func TestVerifyStatus(t *testing.T) {
	t.Parallel()
	denied := string(readTestdata(t, "status-denied.xml"))
	const (
		nested = `<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:RequestDenied"/>`
		msg    = `<samlp:StatusMessage>User does not have access to this service provider</samlp:StatusMessage>`
		top    = `Value="urn:oasis:names:tc:SAML:2.0:status:Requester"`
	)
	generic := PublicMessage(CodeStatusNotSuccess)
	tests := []struct {
		name       string
		edit       func(string) string
		wantPublic string // "" means the generic message
		wantDetail string
	}{
		{"top and nested status", func(d string) string { return d }, "(SAML status Requester/RequestDenied).", "User does not have access"},
		{"no nested status", func(d string) string { return strings.Replace(d, nested, "", 1) }, "(SAML status Requester).", `/ "":`},
		{"no StatusMessage", func(d string) string { return strings.Replace(d, msg, "", 1) }, "(SAML status Requester/RequestDenied).", `: ""`},
		{"nested status not standard", func(d string) string {
			return strings.Replace(d, nested, `<samlp:StatusCode Value="urn:evil:RequestDenied"/>`, 1)
		}, "(SAML status Requester).", "urn:evil:RequestDenied"},
		{"top status not standard", func(d string) string {
			return strings.Replace(d, top, `Value="urn:evil:status:Requester"`, 1)
		}, "", "urn:evil:status:Requester"},
		{"top status with a non-letter", func(d string) string {
			return strings.Replace(d, top, `Value="urn:oasis:names:tc:SAML:2.0:status:Reques-ter"`, 1)
		}, "", "Reques-ter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := tc.edit(denied)
			_, err := newTestVerifier(t, testAccount(t), testNow).Verify(encode([]byte(doc)), Expect{RequestID: testRequestID})
			wantCode(t, err, CodeStatusNotSuccess)
			pub := PublicOf(err)
			switch {
			case tc.wantPublic == "" && pub != generic:
				t.Errorf("public %q, want the generic %q", pub, generic)
			case tc.wantPublic != "" && !strings.Contains(pub, tc.wantPublic):
				t.Errorf("public %q, want it to contain %q", pub, tc.wantPublic)
			}
			if !strings.Contains(err.Error(), tc.wantDetail) {
				t.Errorf("detail %q, want it to contain %q", err.Error(), tc.wantDetail)
			}
		})
	}
}

// TestStatusName: only letters after the SAML status prefix make a name;
// the characters just outside each letter range do not.
func TestStatusName(t *testing.T) {
	t.Parallel()
	const p = "urn:oasis:names:tc:SAML:2.0:status:"
	tests := []struct{ top, sub, want string }{
		{p + "Requester", "", "Requester"},
		{p + "Requester", p + "AuthnFailed", "Requester/AuthnFailed"},
		{p + "azAZ", "", "azAZ"},
		{p + "a@", "", ""}, // '@' is just below 'A'
		{p + "a[", "", ""}, // '[' is just above 'Z'
		{p + "a`", "", ""}, // '`' is just below 'a'
		{p + "a{", "", ""}, // '{' is just above 'z'
		{p + "Responder", p + "x-y", "Responder"},
		{"Requester", "", ""},
		{p, "", ""},
	}
	for _, tc := range tests {
		if got := statusName(tc.top, tc.sub); got != tc.want {
			t.Errorf("statusName(%q, %q) = %q, want %q", tc.top, tc.sub, got, tc.want)
		}
	}
}
