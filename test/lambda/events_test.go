package lambda_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The JSON shapes below are written out by hand, with API Gateway's field
// names, rather than taken from aws-lambda-go's structs: the functions
// decode with those structs, and a test that encodes with them too could
// not notice a mismatch with what API Gateway sends.

// httpEvent is an API Gateway HTTP API (payload format 2.0) request.
type httpEvent struct {
	method, path, rawQuery string
	headers                map[string]string // lower-case names, as HTTP API sends them
	cookies                []string
	body                   []byte
	requestID              string
}

// newRequestID makes an id shaped like API Gateway's requestContext.requestId.
func newRequestID() string {
	return rand.Text()[:14] + "="
}

func getEvent(path, rawQuery string) httpEvent {
	return httpEvent{method: http.MethodGet, path: path, rawQuery: rawQuery, requestID: newRequestID()}
}

// toolEvent is a GET by a SAML tool (an IdP reading the SP metadata): it
// does not ask for text/html as a browser does.
func toolEvent(path string) httpEvent {
	e := getEvent(path, "")
	e.headers = map[string]string{"accept": "*/*", "user-agent": "saml-metadata-refresh/1.0"}
	return e
}

// headEvent is a HEAD request (a monitor, a link checker).
func headEvent(path string) httpEvent {
	return httpEvent{method: http.MethodHead, path: path, requestID: newRequestID()}
}

// checkHeadResponse: a HEAD answer has the GET's headers and no body.
func checkHeadResponse(t *testing.T, r httpResponse, _ httpEvent) {
	t.Helper()
	if b := r.body(t); b != "" || r.header("Content-Type") == "" {
		t.Errorf("HEAD: body %q, Content-Type %q; want no body and the GET's headers", b, r.header("Content-Type"))
	}
}

// formEvent is the IdP's auto-submitted form: HTTP API base64-encodes
// application/x-www-form-urlencoded bodies.
func formEvent(path string, form string) httpEvent {
	return httpEvent{method: http.MethodPost, path: path, requestID: newRequestID(), body: []byte(form),
		headers: map[string]string{
			"content-type":   "application/x-www-form-urlencoded",
			"content-length": strconv.Itoa(len(form)),
			"origin":         "https://acme.my.salesforce.com",
			"referer":        "https://acme.my.salesforce.com/",
		}}
}

func (e httpEvent) json(t *testing.T) []byte {
	t.Helper()
	headers := map[string]string{
		"accept":            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
		"host":              "sso.example.com",
		"user-agent":        "Mozilla/5.0 (X11; Linux x86_64) samlflex-lambda-test",
		"x-amzn-trace-id":   "Root=1-67c2f600-3b9f1c2d4e5f60718293a4b5",
		"x-forwarded-for":   "198.51.100.7",
		"x-forwarded-port":  "443",
		"x-forwarded-proto": "https",
	}
	for k, v := range e.headers {
		headers[k] = v
	}
	now := time.Now().UTC()
	ev := map[string]any{
		"version":        "2.0",
		"routeKey":       "$default",
		"rawPath":        e.path,
		"rawQueryString": e.rawQuery,
		"headers":        headers,
		"requestContext": map[string]any{
			"accountId":    "123456789012",
			"apiId":        "a1b2c3d4e5",
			"domainName":   "sso.example.com",
			"domainPrefix": "sso",
			"http": map[string]any{
				"method":    e.method,
				"path":      e.path,
				"protocol":  "HTTP/1.1",
				"sourceIp":  "198.51.100.7",
				"userAgent": headers["user-agent"],
			},
			"requestId": e.requestID,
			"routeKey":  "$default",
			"stage":     "$default",
			"time":      now.Format("02/Jan/2006:15:04:05 -0700"),
			"timeEpoch": now.UnixMilli(),
		},
		"isBase64Encoded": false,
	}
	if len(e.cookies) > 0 {
		ev["cookies"] = e.cookies
	}
	if e.body != nil {
		ev["body"] = base64.StdEncoding.EncodeToString(e.body)
		ev["isBase64Encoded"] = true
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// httpResponse is the function's answer, which HTTP API turns into the
// HTTP response.
type httpResponse struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Cookies         []string          `json:"cookies"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	// Set only when the invocation failed instead of answering.
	ErrorMessage string `json:"errorMessage"`
}

// header looks a header up case-insensitively, as HTTP API does.
func (r httpResponse) header(name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func (r httpResponse) body(t *testing.T) string {
	t.Helper()
	if !r.IsBase64Encoded {
		return r.Body
	}
	b, err := base64.StdEncoding.DecodeString(r.Body)
	if err != nil {
		t.Fatalf("body is not base64: %v", err)
	}
	return string(b)
}
