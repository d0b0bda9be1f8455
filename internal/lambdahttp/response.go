package lambdahttp

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

var _ http.ResponseWriter = (*responseWriter)(nil)

// responseWriter buffers a whole response: a Lambda returns one event, so
// nothing can be streamed. It copies net/http's observable rules (status
// snapshot, header snapshot, sniffing, no body for HEAD/204/304) so that a
// handler behaves the same here as under `samlflex serve`.
type responseWriter struct {
	header http.Header
	// status is 0 until the header is written.
	status int
	// sent is the header as it was when the status was written; later
	// changes are ignored, as net/http ignores them.
	sent http.Header
	body bytes.Buffer
	// head discards the body of a HEAD response, as net/http does.
	head bool
}

func newResponseWriter(method string) *responseWriter {
	return &responseWriter{header: make(http.Header), head: method == http.MethodHead}
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	// Same check and panic as net/http, so a buggy status is caught by the
	// adapter's recover and answered with 500 in both environments.
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.status != 0 {
		return // net/http keeps the first status too ("superfluous" call).
	}
	if code < 200 {
		// Informational responses (100, 103) cannot be relayed through a
		// Lambda response, and net/http does not count them as the status.
		return
	}
	w.status = code
	w.sent = w.header.Clone()
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.head {
		return len(p), nil
	}
	return w.body.Write(p)
}

// result converts what the handler wrote into the HTTP API v2 response.
func (w *responseWriter) result() events.APIGatewayV2HTTPResponse {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK) // The handler wrote nothing: net/http sends 200.
	}
	h := w.sent
	body := w.body.Bytes()

	// net/http sniffs a missing Content-Type unless the handler set the key
	// to nil (to send none) or the body is encoded.
	if _, ok := h["Content-Type"]; !ok && h.Get("Content-Encoding") == "" && len(body) > 0 {
		h.Set("Content-Type", http.DetectContentType(body))
	}

	resp := events.APIGatewayV2HTTPResponse{
		StatusCode: w.status,
		Headers:    make(map[string]string, len(h)),
	}
	for k, vs := range h {
		if len(vs) == 0 || !isToken(k) {
			continue // nil means "do not send"; a bad name cannot be sent.
		}
		if k == "Set-Cookie" {
			// HTTP API v2 has no multi-value headers; each cookie must be
			// its own entry because commas are legal inside a cookie's
			// Expires attribute, so joining would corrupt them.
			for _, v := range vs {
				resp.Cookies = append(resp.Cookies, headerValue(v))
			}
			continue
		}
		vals := make([]string, len(vs))
		for i, v := range vs {
			vals[i] = headerValue(v)
		}
		// RFC 9110 §5.3: repeated fields may be combined with commas.
		resp.Headers[k] = strings.Join(vals, ", ")
	}

	if len(body) == 0 {
		return resp
	}
	if isText(h.Get("Content-Type"), h.Get("Content-Encoding"), body) {
		resp.Body = string(body)
	} else {
		resp.Body = base64.StdEncoding.EncodeToString(body)
		resp.IsBase64Encoded = true
	}
	return resp
}

// isText reports whether body can travel as a JSON string without change.
// It must be both declared textual and valid UTF-8: encoding/json replaces
// invalid UTF-8 with U+FFFD, which would silently corrupt, say, a Latin-1
// page. An encoded body (gzip) is binary whatever its type.
func isText(contentType, contentEncoding string, body []byte) bool {
	if contentEncoding != "" && !strings.EqualFold(contentEncoding, "identity") {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json",
		mt == "application/xml",
		mt == "application/javascript",
		strings.HasSuffix(mt, "+xml"),  // e.g. application/samlmetadata+xml
		strings.HasSuffix(mt, "+json"): // e.g. application/problem+json
		return utf8.Valid(body)
	default:
		return false
	}
}

// bodyAllowed mirrors net/http: 1xx, 204 and 304 responses have no body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// headerValue replaces CR and LF with spaces, as net/http does when it
// writes headers, so a value built from input cannot split the header.
func headerValue(v string) string {
	if !strings.ContainsAny(v, "\r\n") {
		return v
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, v)
}
