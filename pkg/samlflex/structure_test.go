package samlflex

import (
	"regexp"
	"strings"
	"testing"
)

// Fragments of the golden response (templates/response-signed.xml).
const (
	stStatus      = `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`
	stSubjectOpen = `<saml:Subject>`
	stNameID      = `<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">jane.doe@acme.example</saml:NameID>`
	stConfOpen    = `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">`
	stConfClose   = `</saml:SubjectConfirmation>`
	stCondOpen    = `<saml:Conditions NotBefore="2026-01-15T09:59:30.000Z" NotOnOrAfter="2026-01-15T10:05:00.000Z">`
	stAudRestr    = `<saml:AudienceRestriction>`
	stAuthnCtx    = `<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified</saml:AuthnContextClassRef></saml:AuthnContext>`
	stAttrStmt    = `<saml:AttributeStatement>`
	stAttrOpen    = `<saml:Attribute Name="userId" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">`
	stForeign     = `<evil:x xmlns:evil="urn:evil">mallory</evil:x>`
)

var (
	stSubjectRE    = regexp.MustCompile(`(?s)<saml:Subject>.*?</saml:Subject>`)
	stConditionsRE = regexp.MustCompile(`(?s)<saml:Conditions .*?</saml:Conditions>`)
	stAssertSigRE  = regexp.MustCompile(`(?s)(<saml:Assertion .*?</saml:Issuer>)(<ds:Signature .*?</ds:Signature>)(<saml:Subject>)`)
)

// TestStrictStructure: every shape the SAML 2.0 schema does not allow,
// where samlflex reads, is refused, even when a valid signature covers it
// (each case is signed after the edit, or edits only the unsigned envelope
// of assertion-signed.xml, so the structure check alone can refuse it).
// Wildcard places (Extensions, Advice) accept foreign content.
func TestStrictStructure(t *testing.T) {
	t.Parallel()
	envelope := string(readTestdata(t, "assertion-signed.xml"))
	// signed applies the edits to the unsigned golden response, then signs
	// the Response.
	signed := func(edits ...string) func(*testing.T) []byte {
		return func(t *testing.T) []byte { return signedVariant(t, edits...) }
	}
	inEnvelope := func(from, to string) func(*testing.T) []byte {
		return func(t *testing.T) []byte {
			if !strings.Contains(envelope, from) {
				t.Fatalf("golden lacks %q", from)
			}
			return []byte(strings.Replace(envelope, from, to, 1))
		}
	}
	swapSubjectConditions := func(t *testing.T) []byte {
		doc := unsignedTemplate(t, "response-signed.xml")
		subj, cond := stSubjectRE.FindString(doc), stConditionsRE.FindString(doc)
		doc = strings.Replace(doc, subj+cond, cond+subj, 1)
		return goSign(t, doc, "idp-rsa", false, true)
	}
	tests := []struct {
		name string
		doc  func(*testing.T) []byte
		want Code
	}{
		// Response children: Issuer?, Signature?, Extensions?, Status, Assertion.
		{"foreign element before the signed Assertion", inEnvelope(stStatus, stStatus+stForeign), CodeMalformedResponse},
		{"foreign element after the Assertion", inEnvelope("</samlp:Response>", stForeign+"</samlp:Response>"), CodeMalformedResponse},
		{"foreign element before Status", inEnvelope(stStatus, stForeign+stStatus), CodeMalformedResponse},
		{"Extensions after Status", inEnvelope(stStatus, stStatus+`<samlp:Extensions>`+stForeign+`</samlp:Extensions>`), CodeMalformedResponse},
		{"two Status", inEnvelope(stStatus, stStatus+stStatus), CodeMalformedResponse},
		{"Issuer in the protocol namespace", inEnvelope(stStatus, `<samlp:Issuer>x</samlp:Issuer>`+stStatus), CodeMalformedResponse},
		{"text in the Response", inEnvelope(stStatus, stStatus+"mallory"), CodeMalformedResponse},
		{"Status holds a foreign element", inEnvelope(`</samlp:Status>`, stForeign+`</samlp:Status>`), CodeMalformedResponse},
		{"StatusMessage before StatusCode", inEnvelope(stStatus, `<samlp:Status><samlp:StatusMessage>x</samlp:StatusMessage><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`), CodeMalformedResponse},
		{"allowed: foreign content in Extensions", inEnvelope(stStatus, `<samlp:Extensions>`+stForeign+`</samlp:Extensions>`+stStatus), ""},
		{"allowed: StatusMessage and StatusDetail", inEnvelope(stStatus, `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/><samlp:StatusMessage>ok</samlp:StatusMessage><samlp:StatusDetail>`+stForeign+`</samlp:StatusDetail></samlp:Status>`), ""},

		// Assertion children: Issuer, Signature?, Subject?, Conditions?, Advice?, statements.
		{"Assertion Signature after Subject", func(t *testing.T) []byte {
			return []byte(stAssertSigRE.ReplaceAllString(envelope, "${1}${3}PLACEHOLDER"))
		}, CodeMalformedResponse},
		{"Subject after Conditions", swapSubjectConditions, CodeMalformedResponse},
		{"foreign element before Subject", signed(stSubjectOpen, stForeign+stSubjectOpen), CodeMalformedResponse},
		{"foreign element among statements", signed(stAttrStmt, stForeign+stAttrStmt), CodeMalformedResponse},
		{"Advice after statements", signed(`</saml:Assertion>`, `<saml:Advice/></saml:Assertion>`), CodeMalformedResponse},
		{"allowed: foreign content in Advice", signed(`<saml:AuthnStatement `, `<saml:Advice>`+stForeign+`</saml:Advice><saml:AuthnStatement `), ""},

		// Subject and SubjectConfirmation.
		{"NameID after SubjectConfirmation", signed(stNameID+stConfOpen, stConfOpen, stConfClose, stConfClose+stNameID), CodeMalformedResponse},
		{"foreign element in Subject", signed(stConfClose, stConfClose+stForeign), CodeMalformedResponse},
		{"foreign element in SubjectConfirmation", signed(stConfClose, stForeign+stConfClose), CodeMalformedResponse},
		{"two SubjectConfirmationData", signed(stConfClose, `<saml:SubjectConfirmationData/>`+stConfClose), CodeMalformedResponse},

		// Conditions and AudienceRestriction.
		{"foreign element in Conditions", signed(stCondOpen, stCondOpen+stForeign), CodeMalformedResponse},
		{"two OneTimeUse", signed(stCondOpen, stCondOpen+`<saml:OneTimeUse/><saml:OneTimeUse/>`), CodeMalformedResponse},
		{"Audience in a foreign namespace beside ours", signed(`</saml:AudienceRestriction>`, `<evil:Audience xmlns:evil="urn:evil">x</evil:Audience></saml:AudienceRestriction>`), CodeMalformedResponse},
		{"allowed: OneTimeUse", signed(stCondOpen, stCondOpen+`<saml:OneTimeUse/>`), ""},
		{"two ProxyRestriction", signed(stCondOpen, stCondOpen+`<saml:ProxyRestriction Count="1"/><saml:ProxyRestriction Count="1"/>`), CodeMalformedResponse},
		{"allowed: ProxyRestriction", signed(stCondOpen, stCondOpen+`<saml:ProxyRestriction Count="1"/>`), ""},

		// Statements.
		{"AuthnStatement without AuthnContext", signed(stAuthnCtx, ""), CodeMalformedResponse},
		{"foreign element in AttributeStatement", signed(stAttrStmt, stAttrStmt+stForeign), CodeMalformedResponse},
		{"foreign element in Attribute", signed(stAttrOpen, stAttrOpen+stForeign), CodeMalformedResponse},
		{"empty AttributeStatement", func(t *testing.T) []byte {
			doc := unsignedTemplate(t, "response-signed.xml")
			doc = regexp.MustCompile(`(?s)<saml:AttributeStatement>.*</saml:AttributeStatement>`).ReplaceAllString(doc, `<saml:AttributeStatement/>`)
			return goSign(t, doc, "idp-rsa", false, true)
		}, CodeMalformedResponse},
		{"allowed: AudienceRestriction with two Audiences", signed(stAudRestr, stAudRestr+`<saml:Audience>https://other.example.com</saml:Audience>`), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := tc.doc(t)
			if strings.Contains(string(doc), "PLACEHOLDER") {
				// Move the Assertion's signature after its Subject: the
				// enveloped transform removes it wherever it is, so the
				// signature stays valid.
				sig := stAssertSigRE.FindStringSubmatch(envelope)[2]
				d := strings.Replace(string(doc), "PLACEHOLDER", "", 1)
				d = strings.Replace(d, "</saml:Subject>", "</saml:Subject>"+sig, 1)
				doc = []byte(d)
			}
			v := newTestVerifier(t, testAccount(t), testNow)
			_, err := v.Verify(encode(doc), Expect{RequestID: testRequestID})
			wantCode(t, err, tc.want)
			if tc.want != "" && !strings.Contains(err.Error(), "schema: ") {
				t.Fatalf("refused by something else than the structure check: %v", err)
			}
		})
	}
}

// TestStructureKeepsCodes: the structure check runs after the checks
// whose own codes say more (status, assertion count, encryption).
func TestStructureKeepsCodes(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, testAccount(t), testNow)
	for file, want := range map[string]Code{
		"status-denied.xml":       CodeStatusNotSuccess,
		"two-assertions.xml":      CodeMultipleAssertions,
		"encrypted-assertion.xml": CodeEncryptedAssertion,
	} {
		_, err := v.Verify(encode(readTestdata(t, file)), Expect{RequestID: testRequestID})
		if CodeOf(err) != want {
			t.Errorf("%s: %v, want %s", file, err, want)
		}
	}
}
