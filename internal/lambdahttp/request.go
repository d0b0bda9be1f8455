package lambdahttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// requestError is why an event could not become an *http.Request, with the
// status to answer. Its text goes to the log, never to the client.
type requestError struct {
	status int
	err    error
}

func (e *requestError) Error() string { return e.err.Error() }
func (e *requestError) Unwrap() error { return e.err }

func refuse(status int, format string, args ...any) error {
	return &requestError{status: status, err: fmt.Errorf(format, args...)}
}

// newRequest builds the *http.Request a net/http server would have built for
// the same HTTP request, so handlers behave the same on Lambda and in
// `samlflex serve`.
func newRequest(ctx context.Context, ev events.APIGatewayV2HTTPRequest, maxBody int64) (*http.Request, error) {
	method := ev.RequestContext.HTTP.Method
	if !isToken(method) {
		return nil, refuse(http.StatusBadRequest, "invalid method %q", method)
	}

	// net/http takes r.Host from the Host header; HTTP API keeps it (lower
	// case) in Headers. DomainName is the fallback for hand-made events.
	host := ev.Headers["host"]
	if host == "" {
		host = ev.RequestContext.DomainName
	}
	if !validHost(host) {
		return nil, refuse(http.StatusBadRequest, "invalid host %q", host)
	}

	// RawPath is what the client sent; HTTP.Path is the same path in
	// events that lack rawPath (older test tools).
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	if !strings.HasPrefix(path, "/") {
		return nil, refuse(http.StatusBadRequest, "path %q is not absolute", path)
	}
	requestURI := path
	if ev.RawQueryString != "" {
		requestURI += "?" + ev.RawQueryString
	}
	// ParseRequestURI is what net/http uses for a request line, so "//x"
	// stays a path instead of becoming a host.
	u, err := url.ParseRequestURI(requestURI)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "invalid request URI: %w", err)
	}
	// API Gateway only accepts HTTPS, so the client's scheme is https even
	// though the event does not say so.
	u.Scheme = "https"
	u.Host = host

	body, err := decodeBody(ev, maxBody)
	if err != nil {
		return nil, err
	}

	proto := ev.RequestContext.HTTP.Protocol
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		proto, major, minor = "HTTP/1.1", 1, 1
	}

	r := &http.Request{
		Method:        method,
		URL:           u,
		Proto:         proto,
		ProtoMajor:    major,
		ProtoMinor:    minor,
		Header:        requestHeader(ev),
		Body:          http.NoBody,
		ContentLength: int64(len(body)),
		Host:          host,
		// HTTP API gives no client port, so this is a bare IP, not the
		// "IP:port" a net/http server sets.
		RemoteAddr: ev.RequestContext.HTTP.SourceIP,
		RequestURI: requestURI,
	}
	if len(body) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return r.WithContext(ctx), nil
}

// requestHeader copies the event's headers. HTTP API lower-cases names and
// joins repeated headers with commas; each stays one value, as the joined
// form is what a client could have sent anyway.
func requestHeader(ev events.APIGatewayV2HTTPRequest) http.Header {
	h := make(http.Header, len(ev.Headers)+2)
	// Sorted so that names differing only in case (impossible from HTTP API,
	// possible in hand-made events) merge in a stable order.
	for _, k := range slices.Sorted(maps.Keys(ev.Headers)) {
		ck := http.CanonicalHeaderKey(k)
		if ck == "Host" {
			continue // net/http moves Host to r.Host and out of r.Header.
		}
		if prev, ok := h[ck]; ok {
			h[ck] = []string{prev[0] + "," + ev.Headers[k]}
			continue
		}
		h[ck] = []string{ev.Headers[k]}
	}

	// HTTP API moves Cookie headers into ev.Cookies, one entry per
	// cookie; a single "; "-joined header is what net/http's r.Cookie
	// parses. A "cookie" header is left alone only when the array is empty
	// (events written by hand or by local test tools).
	if len(ev.Cookies) > 0 {
		h.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}

	// The client must not choose our log correlation id.
	h.Del("X-Request-Id")
	if id := ev.RequestContext.RequestID; id != "" {
		h.Set("X-Request-Id", id)
	}
	return h
}

// decodeBody returns the request body, capped at maxBody bytes after
// decoding. HTTP API base64-encodes bodies it considers binary, which
// includes application/x-www-form-urlencoded ACS posts.
func decodeBody(ev events.APIGatewayV2HTTPRequest, maxBody int64) ([]byte, error) {
	if !ev.IsBase64Encoded {
		if n := int64(len(ev.Body)); n > maxBody {
			return nil, refuse(http.StatusRequestEntityTooLarge, "body of %d bytes exceeds limit of %d", n, maxBody)
		}
		return []byte(ev.Body), nil
	}
	// Refused before decoding when the encoded length alone proves it too
	// large: HTTP API accepts bodies up to its own 10 MB, far above any
	// account's SAMLResponse cap, and decoding them would allocate and
	// spend CPU for a request that must fail anyway. maxBody bytes encode
	// to exactly maxEncoded characters. The standard encoding that API
	// Gateway writes has no line breaks; a hand-made event with them (the
	// decoder would skip them) may be refused although it decodes to
	// maxBody bytes or fewer, which errs on the safe side.
	if n, limit := int64(len(ev.Body)), maxEncoded(maxBody); n > limit {
		return nil, refuse(http.StatusRequestEntityTooLarge, "base64 body of %d characters exceeds %d (limit of %d bytes), refused before decoding", n, limit, maxBody)
	}
	b, err := base64.StdEncoding.DecodeString(ev.Body)
	if err != nil {
		// The error names a byte offset, never the body's content.
		return nil, refuse(http.StatusBadRequest, "body is not valid base64: %w", err)
	}
	if n := int64(len(b)); n > maxBody {
		return nil, refuse(http.StatusRequestEntityTooLarge, "body of %d bytes exceeds limit of %d", n, maxBody)
	}
	return b, nil
}

// maxEncoded is the length of the standard base64 encoding of maxBody
// bytes (with padding): 4 characters for every 3 bytes, rounded up.
func maxEncoded(maxBody int64) int64 {
	return (maxBody + 2) / 3 * 4
}

// isToken reports whether s is an RFC 9110 token, the syntax of methods and
// header names.
func isToken(s string) bool {
	return alnumOr(s, "!#$%&'*+-.^_`|~")
}

// validHost accepts the bytes net/http accepts in a Host header (the
// characters of a reg-name, IP literal and port). Anything else could make
// r.URL.String() produce a URL with a different host or path.
func validHost(s string) bool {
	return alnumOr(s, "!$%&'()*+,-.:;=[]_~")
}

// alnumOr reports whether s is not empty and each of its bytes is an ASCII
// letter, an ASCII digit or one of the bytes of extra.
func alnumOr(s, extra string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte(extra, c) >= 0:
		default:
			return false
		}
	}
	return true
}
