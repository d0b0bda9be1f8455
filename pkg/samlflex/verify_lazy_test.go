package samlflex

import (
	"reflect"
	"testing"
)

// TestVerifyTraceOnlyOnRefusal: Verify builds no trace for an accepted
// response, and for a refused one attaches exactly the trace VerifyTrace
// builds (it verifies a second time to collect it); a refusal before the
// first traced check has an empty trace.
func TestVerifyTraceOnlyOnRefusal(t *testing.T) {
	t.Parallel()
	otherIssuer := testAccount(t)
	otherIssuer.IdPIssuer = "https://other.my.salesforce.com"
	tests := []struct {
		name      string
		acct      Account
		doc       []byte
		wantCode  Code
		wantEmpty bool
	}{
		{name: "accepted", acct: testAccount(t), doc: readTestdata(t, "response-signed.xml")},
		{name: "refused after the signature", acct: otherIssuer, doc: readTestdata(t, "response-signed.xml"), wantCode: CodeIssuerMismatch},
		{name: "refused by the signature", acct: testAccount(t), doc: readTestdata(t, "response-signed-other-key.xml"), wantCode: CodeCertificateUntrusted},
		{name: "refused before the trace", acct: testAccount(t), doc: []byte("<not-xml"), wantCode: CodeMalformedResponse, wantEmpty: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newTestVerifier(t, tc.acct, testNow)
			_, err := v.Verify(encode(tc.doc), Expect{RequestID: testRequestID})
			_, full, ferr := v.VerifyTrace(encode(tc.doc), Expect{RequestID: testRequestID})
			if CodeOf(err) != CodeOf(ferr) || (err == nil) != (tc.wantCode == "") || (err != nil && CodeOf(err) != tc.wantCode) {
				t.Fatalf("Verify %v, VerifyTrace %v, want code %q", err, ferr, tc.wantCode)
			}
			if err == nil {
				if len(full.Checks) == 0 {
					t.Fatal("VerifyTrace of an accepted response has no checks")
				}
				return
			}
			got := TraceOf(err)
			if got == nil {
				t.Fatal("a refusal carries no trace")
			}
			if tc.wantEmpty != (len(got.Checks) == 0) {
				t.Fatalf("trace has %d checks, want empty: %v", len(got.Checks), tc.wantEmpty)
			}
			if !reflect.DeepEqual(got.Checks, full.Checks) {
				t.Fatalf("Verify's trace differs from VerifyTrace's:\n got %+v\nwant %+v", got.Checks, full.Checks)
			}
		})
	}
}
