package lambda_test

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// logLine is the part of a slog JSON line the test reads.
type logLine struct {
	Level     string  `json:"level"`
	Msg       string  `json:"msg"`
	Function  string  `json:"function"`
	RequestID string  `json:"request_id"`
	Status    float64 `json:"status"`
	Code      string  `json:"code"`
}

func checkAccessLog(t *testing.T, fn *function, c httpCase) {
	t.Helper()
	line := fn.waitOutput(t, "the access log of request_id "+c.event.requestID, func(l string) bool {
		var ll logLine
		return json.Unmarshal([]byte(l), &ll) == nil && ll.Msg == "request" && ll.RequestID == c.event.requestID
	})
	var ll logLine
	_ = json.Unmarshal([]byte(line), &ll)
	if ll.Function != fn.name || int(ll.Status) != c.wantStatus || ll.Code != c.wantCode {
		t.Errorf("access log %s: want function %s, status %d, code %q", line, fn.name, c.wantStatus, c.wantCode)
	}
}

// checkRefusalLog checks lambdahttp's log line for an event it refused.
func checkRefusalLog(t *testing.T, fn *function, c httpCase) {
	t.Helper()
	line := fn.waitOutput(t, "lambdahttp's refusal of request_id "+c.event.requestID, func(l string) bool {
		var ll logLine
		return json.Unmarshal([]byte(l), &ll) == nil && ll.Msg == "lambdahttp: request refused" && ll.RequestID == c.event.requestID
	})
	var ll logLine
	_ = json.Unmarshal([]byte(line), &ll)
	if ll.Function != fn.name || int(ll.Status) != c.wantStatus {
		t.Errorf("refusal log %s: want function %s, status %d", line, fn.name, c.wantStatus)
	}
}

// lambdaErrorReport matches the line aws-lambda-go itself writes (with the
// standard log package, to stderr) when a handler returns an error: the
// error document the invocation answers. It is not ours to make JSON.
var lambdaErrorReport = regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \{"errorMessage":`)

// checkStdout checks all the function wrote: JSON lines (besides the
// RIE's own START/END/REPORT lines and aws-lambda-go's error reports),
// none containing a forbidden string.
func checkStdout(t *testing.T, fn *function, forbidden []string) {
	t.Helper()
	for _, l := range fn.stdout.Lines() {
		for _, f := range forbidden {
			if f != "" && strings.Contains(l, f) {
				t.Errorf("%s logged %q: %s", fn.name, f, l)
			}
		}
		switch {
		case rieLine(l), lambdaErrorReport.MatchString(l):
		case !json.Valid([]byte(l)):
			t.Errorf("%s wrote a stdout line that is not JSON: %s", fn.name, l)
		}
	}
}

func checkMetadata(t *testing.T, st *stack, r httpResponse) {
	t.Helper()
	if ct := r.header("Content-Type"); ct != "application/samlmetadata+xml" {
		t.Errorf("Content-Type %q", ct)
	}
	var md struct {
		EntityID string   `xml:"entityID,attr"`
		Certs    []string `xml:"SPSSODescriptor>KeyDescriptor>KeyInfo>X509Data>X509Certificate"`
		ACS      struct {
			Location string `xml:"Location,attr"`
		} `xml:"SPSSODescriptor>AssertionConsumerService"`
	}
	if err := xml.Unmarshal([]byte(r.body(t)), &md); err != nil {
		t.Fatalf("metadata: %v\n%s", err, r.body(t))
	}
	if want := baseURL + accountPath + "/metadata"; md.EntityID != want {
		t.Errorf("entityID %q, want %q", md.EntityID, want)
	}
	if want := baseURL + accountPath; md.ACS.Location != want {
		t.Errorf("ACS Location %q, want %q", md.ACS.Location, want)
	}
	// Current and next: the IdP learns the next key a rotation ahead.
	want := []string{base64.StdEncoding.EncodeToString(st.cur.Certificate.Raw), base64.StdEncoding.EncodeToString(st.next.Certificate.Raw)}
	got := make([]string, len(md.Certs))
	for i, c := range md.Certs {
		got[i] = strings.Join(strings.Fields(c), "")
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("metadata has %d certificates, want the current and next ones", len(got))
	}
}

func checkJWKS(t *testing.T, st *stack, r httpResponse) {
	t.Helper()
	if ct := r.header("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var jwks struct {
		Keys []struct {
			Kid string `json:"kid"`
			Alg string `json:"alg"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(r.body(t)), &jwks); err != nil {
		t.Fatalf("jwks: %v\n%s", err, r.body(t))
	}
	var kids []string
	for _, k := range jwks.Keys {
		kids = append(kids, k.Kid)
	}
	// Each pair publishes its RSA key (RS256 tokens: an RS256 deployment,
	// or issued before token keys existed) and its token key (ES256).
	want := []string{st.cur.Kid, st.cur.Token.Kid, st.next.Kid, st.next.Token.Kid}
	slices.Sort(kids)
	slices.Sort(want)
	if !slices.Equal(kids, want) {
		t.Errorf("kids %q, want %q", kids, want)
	}
}

// checkLoginLink checks the login link's answer for the golden account: the
// redirect to its IdP, carrying relay as the RelayState, and the login
// cookie. It returns the cookie's value.
func checkLoginLink(t *testing.T, r httpResponse, relay string) string {
	t.Helper()
	_, cookie := checkRedirectToIdP(t, r, idpSSOURL, accountPath, relay)
	return cookie
}

// checkRedirectToIdP checks the login link's answer for the account at
// path: a redirect to ssoURL (the account's IdP) with an AuthnRequest and
// relay as the RelayState, and the login cookie. It returns the Location
// and the cookie's value.
func checkRedirectToIdP(t *testing.T, r httpResponse, ssoURL, path, relay string) (*url.URL, string) {
	t.Helper()
	loc, err := url.Parse(r.header("Location"))
	if err != nil || loc.Scheme+"://"+loc.Host+loc.Path != ssoURL {
		t.Fatalf("Location %q, want the IdP SSO URL %s", r.header("Location"), ssoURL)
	}
	if got := loc.Query().Get("RelayState"); got != relay {
		t.Errorf("RelayState %q, want %q", got, relay)
	}
	if cc := r.header("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	// HTTP-Redirect binding: base64 of the DEFLATEd AuthnRequest.
	deflated, err := base64.StdEncoding.DecodeString(loc.Query().Get("SAMLRequest"))
	if err != nil || len(deflated) == 0 {
		t.Fatalf("SAMLRequest %q: %v", loc.Query().Get("SAMLRequest"), err)
	}
	authn, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(deflated)), 1<<20))
	if err != nil {
		t.Fatalf("SAMLRequest does not inflate: %v", err)
	}
	if want := `AssertionConsumerServiceURL="` + baseURL + path + `"`; !strings.Contains(string(authn), want) {
		t.Errorf("AuthnRequest lacks %s:\n%s", want, authn)
	}
	if len(r.Cookies) != 1 {
		t.Fatalf("cookies %q: want the login cookie", r.Cookies)
	}
	raw := r.Cookies[0]
	c, err := http.ParseSetCookie(raw)
	if err != nil {
		t.Fatalf("cookie %q: %v", raw, err)
	}
	// SameSite=None: the IdP's POST to the ACS is a cross-site top-level
	// POST; __Host- with Path=/: host-only, and a base URL with a path
	// prefix still gets it back.
	if c.Name != "__Host-samlflex_login" || c.Value == "" || c.Path != "/" || c.Domain != "" || !c.HttpOnly || !c.Secure ||
		c.SameSite != http.SameSiteNoneMode || c.MaxAge <= 0 ||
		!strings.HasPrefix(raw, "__Host-samlflex_login=") || !strings.Contains(raw, "; Path=/;") ||
		!strings.Contains(raw, "; HttpOnly") || !strings.Contains(raw, "; Secure") || !strings.Contains(raw, "; SameSite=None") {
		t.Errorf("login cookie %q", raw)
	}
	return loc, c.Value
}

// seed runs the four steps of the rotation Secrets Manager starts at deploy
// (RotateSecret creates the AWSPENDING version, then invokes the rotation
// function once per step with the same token).
func seed(t *testing.T, st *stack, rot *function, secret string) {
	t.Helper()
	rotateWithToken(t, st, rot, secret, "00000000-0000-4000-8000-000000000001")
}

// rotateByToken runs the i-th full rotation of a run (each needs its own
// token).
func rotateByToken(t *testing.T, st *stack, rot *function, secret string, i int) {
	t.Helper()
	rotateWithToken(t, st, rot, secret, fmt.Sprintf("00000000-0000-4000-9000-%012d", i))
}

// rotateWithToken is one rotation as Secrets Manager runs it: RotateSecret
// stages the AWSPENDING version token, then the four steps.
func rotateWithToken(t *testing.T, st *stack, rot *function, secret, token string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), setupTimeout)
	defer cancel()
	out, err := st.smc.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(secret),
		ClientRequestToken: aws.String(token), RotateImmediately: aws.Bool(true),
		RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:123456789012:function:samlflex-rotate")})
	if err != nil {
		t.Fatal(err)
	}
	// Secrets Manager names the secret by ARN in the events.
	for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
		ev, _ := json.Marshal(map[string]string{"SecretId": aws.ToString(out.ARN), "ClientRequestToken": token, "Step": step})
		status, body := rot.invoke(t, ev)
		if status != http.StatusOK || strings.TrimSpace(string(body)) != "null" {
			t.Fatalf("rotation step %s: %d %s", step, status, body)
		}
	}
}

func certNotAfter(t *testing.T, pemText string) time.Time {
	t.Helper()
	b, _ := pem.Decode([]byte(pemText))
	if b == nil {
		t.Fatal("idp-rsa.crt is not PEM")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.NotAfter
}

// daysUntil is whole days left, rounded down (as the scan reports them).
func daysUntil(now, t time.Time) int {
	d := t.Sub(now)
	days := int(d / (24 * time.Hour))
	if d < 0 && d%(24*time.Hour) != 0 {
		days--
	}
	return days
}
