package samlflex

import (
	"strings"
	"testing"
)

// FuzzVerify feeds arbitrary XML documents (base64-encoded as the form
// value is) to the full verifier; base64 decoding itself is covered by
// TestVerifyBase64Files. The seed corpus (testdata/fuzz/FuzzVerify, run by
// every `go test`) holds every golden response and the Salesforce capture,
// so mutations start from well-signed documents. The
// property: no panic, and every refusal is a *Error with a public message;
// an acceptance is only possible for an input whose signed content is the
// golden one (the fuzzer cannot sign), so an accepted identity must be Jane.
func FuzzVerify(f *testing.F) {
	v := newTestVerifier(f, testAccount(f, "idp-rsa.crt", "idp-ec.crt"), testNow)
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := v.Verify(encode(in), Expect{RequestID: testRequestID})
		if err != nil {
			if CodeOf(err) == CodeInternal || PublicOf(err) == "" {
				t.Fatalf("untyped refusal: %v", err)
			}
			return
		}
		if a.NameID != "jane.doe@acme.example" {
			t.Fatalf("accepted an identity nobody signed: %q", a.NameID)
		}
		if _, err := Map(a, (&Account{}).Mapping()); err != nil && CodeOf(err) == CodeInternal {
			t.Fatalf("map: %v", err)
		}
	})
}

// FuzzParseRoles: no panic; output sorted, unique, known roles only.
func FuzzParseRoles(f *testing.F) {
	for _, s := range []string{"agent", `"agent"`, "agent, supervisor, admin", "agent;supervisor", "Admin ", "wfo.full_access", "“agent”", ",,;", "x"} {
		f.Add(s, "")
	}
	f.Add("agent", "supervisor")
	f.Fuzz(func(t *testing.T, a, b string) {
		roles, err := ParseRoles([]string{a, b})
		if err != nil {
			if CodeOf(err) != CodeUnknownRole {
				t.Fatalf("code %s", CodeOf(err))
			}
			return
		}
		for i, r := range roles {
			if !KnownRole(r) || r != strings.ToLower(r) {
				t.Fatalf("role %q", r)
			}
			if i > 0 && roles[i-1] >= r {
				t.Fatalf("not sorted/unique: %q", roles)
			}
		}
	})
}
