package lambda_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/awsapp"
	"github.com/samlflex/samlflex/internal/samlflextest"
)

const accountPath = "/v1/Accounts/" + sid + "/saml2"

// TestFunctions runs the three bootstraps under the RIE, one RIE per
// function shared by its cases (the functions run in parallel; the cases
// of one function in sequence, as one execution environment serves one
// invocation at a time).
func TestFunctions(t *testing.T) {
	// Prerequisites first, so that a missing one skips before anything is
	// built or created.
	samlflextest.DynamoDBEndpoint(t)
	rieBinary(t)
	functionBootstrap(t, "acs")
	t.Logf("go build of the 3 bootstraps: %v; RIE %s ready in %v", bootstraps.took.Round(time.Millisecond),
		rieVersion, rie.took.Round(time.Millisecond))
	st := newStack(t)

	t.Run("metadata", func(t *testing.T) {
		t.Parallel()
		fn := st.start(t, "metadata", keysSecret)
		runHTTPCases(t, fn, []httpCase{
			{name: "SP metadata", event: toolEvent(accountPath + "/metadata"), wantStatus: http.StatusOK,
				check: func(t *testing.T, r httpResponse, _ httpEvent) { checkMetadata(t, st, r) }},
			// A browser is shown the XML instead of downloading it.
			{name: "SP metadata in a browser", event: getEvent(accountPath+"/metadata", ""), wantStatus: http.StatusOK,
				check: func(t *testing.T, r httpResponse, _ httpEvent) {
					if ct := r.header("Content-Type"); ct != "application/xml; charset=utf-8" {
						t.Errorf("Content-Type %q", ct)
					}
				}},
			{name: "JWKS", event: getEvent("/.well-known/jwks.json", ""), wantStatus: http.StatusOK,
				check: func(t *testing.T, r httpResponse, _ httpEvent) { checkJWKS(t, st, r) }},
			{name: "health", event: getEvent("/healthz", ""), wantStatus: http.StatusOK,
				check: func(t *testing.T, r httpResponse, _ httpEvent) {
					if r.body(t) != "ok\n" {
						t.Errorf("body %q", r.body(t))
					}
				}},
			// The stack routes HEAD to these three (infra/api.go).
			{name: "HEAD metadata", event: headEvent(accountPath + "/metadata"), wantStatus: http.StatusOK, check: checkHeadResponse},
			{name: "HEAD JWKS", event: headEvent("/.well-known/jwks.json"), wantStatus: http.StatusOK, check: checkHeadResponse},
			{name: "HEAD health", event: headEvent("/healthz"), wantStatus: http.StatusOK, check: checkHeadResponse},
			{name: "unknown account", event: getEvent("/v1/Accounts/ACffffffffffffffffffffffffffffffff/saml2/metadata", ""),
				wantStatus: http.StatusNotFound, wantCode: "unknown_account"},
		})
		checkStdout(t, fn, nil)
	})

	t.Run("acs", func(t *testing.T) {
		t.Parallel()
		fn := st.start(t, "acs", keysSecret)
		golden := strings.TrimSpace(samlflextest.Golden(t, "unsolicited.b64"))
		// response-signed answers the AuthnRequest _samlflex_0123...; its
		// InResponseTo does not matter here (expired first).
		solicited := strings.TrimSpace(samlflextest.Golden(t, "response-signed.b64"))
		const relay = "https://flex.example.com/agent-desktop?tab=1"
		var cookieValue string
		noCookieWarning := func(t *testing.T, ev httpEvent) {
			t.Helper()
			// The warning would precede the access log line in stdout.
			fn.waitOutput(t, "the access log of request_id "+ev.requestID, func(l string) bool {
				return strings.Contains(l, `"msg":"request"`) && strings.Contains(l, ev.requestID)
			})
			for _, l := range fn.stdout.Lines() {
				if strings.Contains(l, `"login cookie ignored"`) && strings.Contains(l, ev.requestID) {
					t.Errorf("the login cookie from the login link was refused: %s", l)
				}
			}
		}
		runHTTPCases(t, fn, []httpCase{
			{name: "login link", event: getEvent(accountPath+"/login", "RelayState="+url.QueryEscape(relay)), wantStatus: http.StatusFound,
				check: func(t *testing.T, r httpResponse, _ httpEvent) { cookieValue = checkLoginLink(t, r, relay) }},
			{
				// The golden response expired in January 2026 and the
				// binary uses the real clock: the exact refusal shows that
				// the signature and conditions were checked in the binary.
				name: "ACS refuses expired response", event: formEvent(accountPath, url.Values{"SAMLResponse": {golden}}.Encode()),
				wantStatus: http.StatusForbidden, wantCode: "assertion_expired",
				check: func(t *testing.T, r httpResponse, _ httpEvent) {
					if r.header("Location") != "" {
						t.Errorf("Location %q on a refusal", r.header("Location"))
					}
					// Whatever happens, the login attempt is over.
					if len(r.Cookies) != 1 || !strings.HasPrefix(r.Cookies[0], "__Host-samlflex_login=;") || !strings.Contains(r.Cookies[0], "Max-Age=0") {
						t.Errorf("cookies %q: want the login cookie cleared", r.Cookies)
					}
				},
			},
			{
				// HTTP API moves the Cookie header into the event's
				// cookies array; the handler must still find the login
				// cookie among others (no "login cookie ignored").
				name: "ACS with the login cookie", event: formEvent(accountPath, url.Values{"SAMLResponse": {solicited}, "RelayState": {relay}}.Encode()),
				wantStatus: http.StatusForbidden, wantCode: "assertion_expired",
				before: func(t *testing.T, ev *httpEvent) {
					if cookieValue == "" {
						t.Fatal("no login cookie from the login link case")
					}
					ev.cookies = []string{"theme=dark", "__Host-samlflex_login=" + cookieValue}
				},
				check: func(t *testing.T, _ httpResponse, ev httpEvent) { noCookieWarning(t, ev) },
			},
			{
				name: "ACS with a forged login cookie", event: formEvent(accountPath, url.Values{"SAMLResponse": {solicited}}.Encode()),
				wantStatus: http.StatusForbidden, wantCode: "assertion_expired",
				before: func(_ *testing.T, ev *httpEvent) { ev.cookies = []string{"__Host-samlflex_login=eyJyIjoiX3gifQ.AAAA"} },
				check: func(t *testing.T, _ httpResponse, ev httpEvent) {
					fn.waitOutput(t, "the warning about the forged cookie", func(l string) bool {
						return strings.Contains(l, `"login cookie ignored"`) && strings.Contains(l, ev.requestID)
					})
				},
			},
			{name: "ACS is POST only", event: getEvent(accountPath, ""), wantStatus: http.StatusMethodNotAllowed, wantCode: "method_not_allowed"},
			{
				// Over the account's cap (256 KiB by default) but within the
				// function's: the handler refuses it with its error page.
				name: "body over the account's cap", event: formEvent(accountPath, "SAMLResponse="+strings.Repeat("A", 2<<20)),
				wantStatus: http.StatusRequestEntityTooLarge, wantCode: "response_too_large",
			},
			{
				// Over the function's cap (the largest any account may
				// have): lambdahttp refuses it before decoding the body.
				name: "body over the function's cap", event: formEvent(accountPath, "SAMLResponse="+strings.Repeat("A", awsapp.MaxRequestBody)),
				wantStatus: http.StatusRequestEntityTooLarge, adapterRefusal: true,
				check: func(t *testing.T, _ httpResponse, ev httpEvent) {
					fn.waitOutput(t, "the adapter's refusal before decoding", func(l string) bool {
						return strings.Contains(l, "refused before decoding") && strings.Contains(l, ev.requestID)
					})
				},
			},
		})
		// Neither the SAML response (in any form) nor the login cookie
		// may reach the log.
		xmlText := samlflextest.Golden(t, "unsolicited.xml")
		checkStdout(t, fn, []string{golden[:64], golden[len(golden)/2 : len(golden)/2+64], url.QueryEscape(golden)[:64],
			solicited[len(solicited)/2 : len(solicited)/2+64], "jane.doe@acme.example", "Jane Doe", "<samlp:Response",
			xmlText[len(xmlText)/2 : len(xmlText)/2+64], cookieValue})
	})

	t.Run("first deploy", func(t *testing.T) {
		t.Parallel()
		// The stack creates the secret empty; the rotation CloudFormation
		// starts at deploy seeds it. Until then the HTTP functions answer
		// keys_unavailable, and right after, they work (no restart).
		const secret = "samlflex-keys-unseeded"
		st.createEmptySecret(t, secret)
		acs := st.start(t, "acs", secret)
		rot := st.start(t, "rotate", secret)
		runHTTPCases(t, acs, []httpCase{{name: "login link before the first rotation", event: getEvent(accountPath+"/login", ""),
			wantStatus: http.StatusServiceUnavailable, wantCode: "keys_unavailable"}})
		seed(t, st, rot, secret)
		rot.waitOutput(t, "sp_key_rotated", func(l string) bool { return strings.Contains(l, `"msg":"sp_key_rotated"`) })
		checkStdout(t, rot, nil)
		runHTTPCases(t, acs, []httpCase{{name: "login link after the first rotation", event: getEvent(accountPath+"/login", ""),
			wantStatus: http.StatusFound, check: func(t *testing.T, r httpResponse, _ httpEvent) { checkLoginLink(t, r, "") }}})
		checkStdout(t, acs, nil)
	})

	t.Run("rotate", func(t *testing.T) {
		t.Parallel()
		fn := st.start(t, "rotate", keysSecret)
		t.Run("IdP certificate scan", func(t *testing.T) {
			before := time.Now()
			status, body := fn.invoke(t, []byte(`{"action":"scan_idp_certificates"}`))
			after := time.Now()
			if status != http.StatusOK || strings.TrimSpace(string(body)) != "null" {
				t.Fatalf("scan: %d %s", status, body)
			}
			line := fn.waitOutput(t, "the MinIdPCertificateDaysToExpiry metric", func(l string) bool {
				return strings.Contains(l, `"MinIdPCertificateDaysToExpiry"`)
			})
			var emf struct {
				AWS *struct {
					CloudWatchMetrics []struct {
						Namespace string
						Metrics   []struct{ Name string }
					}
				} `json:"_aws"`
				Min *float64 `json:"MinIdPCertificateDaysToExpiry"`
			}
			if err := json.Unmarshal([]byte(line), &emf); err != nil || emf.AWS == nil || emf.Min == nil ||
				len(emf.AWS.CloudWatchMetrics) != 1 || emf.AWS.CloudWatchMetrics[0].Namespace != "samlflex" ||
				!slices.ContainsFunc(emf.AWS.CloudWatchMetrics[0].Metrics, func(m struct{ Name string }) bool {
					return m.Name == "MinIdPCertificateDaysToExpiry"
				}) {
				t.Fatalf("not an EMF document declaring MinIdPCertificateDaysToExpiry (%v): %s", err, line)
			}
			notAfter := certNotAfter(t, st.idpCert)
			lo, hi := daysUntil(after, notAfter), daysUntil(before, notAfter)
			if int(*emf.Min) < lo || int(*emf.Min) > hi {
				t.Errorf("MinIdPCertificateDaysToExpiry %v, want %d..%d (idp-rsa.crt expires %s)", *emf.Min, lo, hi, notAfter)
			}
		})
		t.Run("unknown event", func(t *testing.T) {
			status, body := fn.invoke(t, []byte(`{"version":"0","detail-type":"Scheduled Event","source":"aws.events"}`))
			var fail struct{ ErrorMessage, ErrorType string }
			if err := json.Unmarshal(body, &fail); err != nil || !strings.Contains(fail.ErrorMessage, "unknown event") {
				t.Fatalf("unknown event: %d %s (%v): want an errorMessage", status, body, err)
			}
		})
		checkStdout(t, fn, nil)
	})
}

// httpCase is one HTTP request through API Gateway to a function.
type httpCase struct {
	name       string
	event      httpEvent
	wantStatus int
	wantCode   string // X-Samlflex-Error; "" for none
	// adapterRefusal: lambdahttp refuses the event before the handler
	// runs (its own plain answer and log line, no access log).
	adapterRefusal bool
	// before completes the event with values of earlier cases.
	before func(t *testing.T, ev *httpEvent)
	check  func(t *testing.T, r httpResponse, ev httpEvent)
}

// runHTTPCases invokes fn with each case's event in order, one subtest per
// case.
func runHTTPCases(t *testing.T, fn *function, cases []httpCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { invokeHTTP(t, fn, c) })
	}
}

// invokeHTTP invokes fn with c's event, checks the answer and the access log
// line the invocation wrote, and returns the answer.
func invokeHTTP(t *testing.T, fn *function, c httpCase) httpResponse {
	t.Helper()
	if c.before != nil {
		c.before(t, &c.event)
	}
	status, raw := fn.invoke(t, c.event.json(t))
	if status != http.StatusOK {
		t.Fatalf("%s: invocation: RIE answered %d: %s", c.name, status, raw)
	}
	var r httpResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%s: invocation result is not an API Gateway v2 response: %v\n%s", c.name, err, raw)
	}
	if r.ErrorMessage != "" {
		t.Fatalf("%s: invocation failed: %s", c.name, raw)
	}
	if r.StatusCode != c.wantStatus || r.header("X-Samlflex-Error") != c.wantCode {
		t.Fatalf("%s: got %d %q, want %d %q\n%s", c.name, r.StatusCode, r.header("X-Samlflex-Error"), c.wantStatus, c.wantCode, raw)
	}
	if c.adapterRefusal {
		checkRefusalLog(t, fn, c)
		if c.check != nil {
			c.check(t, r, c.event)
		}
		return r
	}
	// API Gateway's request id is the request's id, end to end.
	if got := r.header("X-Request-Id"); got != c.event.requestID {
		t.Errorf("%s: X-Request-Id %q, want the event's requestId %q", c.name, got, c.event.requestID)
	}
	if c.wantCode != "" {
		body := r.body(t)
		if !strings.HasPrefix(r.header("Content-Type"), "text/html") || !strings.Contains(body, `<code id="code">`+c.wantCode+`</code>`) ||
			!strings.Contains(body, c.event.requestID) {
			t.Errorf("%s: error page %q does not show code %s and request id %s:\n%s", c.name, r.header("Content-Type"), c.wantCode, c.event.requestID, body)
		}
	}
	if c.check != nil {
		c.check(t, r, c.event)
	}
	checkAccessLog(t, fn, c)
	return r
}
