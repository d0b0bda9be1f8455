package httpapi

import (
	"bytes"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// formContentType is the Content-Type of an HTML form POST, the only body
// net/http's ParseForm reads as a form (multipart/form-data is
// ParseMultipartForm's).
const formContentType = "application/x-www-form-urlencoded"

// presizeMax bounds the buffer allocated up front from a Content-Length the
// client declares: a typical response fits, and a client that declares the
// whole body limit and then sends slowly holds no more than this until its
// bytes arrive (the buffer then grows as io.ReadAll's would).
const presizeMax = 64 << 10

// parseACSForm is r.ParseForm followed by r.PostForm.Get("SAMLResponse")
// and r.PostForm.Get("RelayState"), for the ACS handler, with the same
// results and the same errors (the same texts and types: *http.MaxBytesError,
// url.EscapeError, ...), but without building url.Values: the body is read
// into one buffer, sized from Content-Length when it is declared, and the
// SAMLResponse is unescaped in place in that buffer (it aliases it, with its
// capacity cut at its length). Runs of bytes without an escape are moved
// in bulk. At the ACS this was 34 µs of a 410 µs login (issue 12).
//
// Like the handler did before ParseForm, it first wraps r.Body in
// http.MaxBytesReader(w, r.Body, limit), so a body over limit fails with
// *http.MaxBytesError (and net/http's 10 MB cap for unlimited bodies never
// applies). What ParseForm does and this does too:
//   - only POST, PUT and PATCH bodies are read;
//   - the Content-Type goes through mime.ParseMediaType (missing means
//     application/octet-stream) and only application/x-www-form-urlencoded
//     is read as a form; other types, multipart/form-data included, give no
//     fields and no error; a Content-Type ParseMediaType refuses is the
//     error, and one whose type is the form's but whose parameters are
//     malformed is the error too, after the body was read;
//   - the body is parsed as url.ParseQuery does: pairs split on '&', a pair
//     with a ';' is an error, empty pairs are skipped, key and value split
//     at the first '=' and both unescaped ('+' is a space, a '%' must start
//     two hex digits, else url.EscapeError); an error anywhere in the body
//     is the error even when both fields parsed, and it is ParseQuery's:
//     the semicolon error if there is a ';' anywhere (ParseQuery's last
//     error of that kind overwrites an earlier escape error), else the
//     first escape error; the first value of a key wins, an empty one
//     included;
//   - ParseQuery's cap on the number of pairs (10,000, or GODEBUG
//     urlmaxqueryparams) is asked of ParseQuery itself, with a string of as
//     many empty pairs, so the setting in force applies;
//   - the URL's query is parsed too (url.ParseQuery) and its error returned
//     when the body had none.
//
// Unlike ParseForm it leaves r.Form and r.PostForm nil; nothing after it
// may read the form again (the body is consumed). If something parsed the
// form before, it falls back to ParseForm's values.
func parseACSForm(w http.ResponseWriter, r *http.Request, limit int64) (samlResponse []byte, relayState string, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if r.PostForm != nil || r.Form != nil {
		err = r.ParseForm()
		return []byte(r.PostForm.Get("SAMLResponse")), r.PostForm.Get("RelayState"), err
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		samlResponse, relayState, err = parseACSBody(r, limit)
	}
	if r.URL != nil {
		// Called even for an empty query: a GODEBUG urlmaxqueryparams of 1
		// refuses that too.
		if _, qerr := url.ParseQuery(r.URL.RawQuery); err == nil {
			err = qerr
		}
	}
	if err != nil {
		return nil, "", err
	}
	return samlResponse, relayState, nil
}

// parseACSBody is net/http's parsePostForm for the two fields.
func parseACSBody(r *http.Request, limit int64) (samlResponse []byte, relayState string, err error) {
	// ParseForm's "missing form body" cannot happen: r.Body is the
	// MaxBytesReader.
	ct := r.Header.Get("Content-Type")
	if ct != formContentType { // what browsers send; ParseMediaType returns it unchanged
		if ct == "" {
			ct = "application/octet-stream"
		}
		ct, _, err = mime.ParseMediaType(ct)
		if ct != formContentType {
			return nil, "", err
		}
	}
	body, rerr := readBody(r.Body, r.ContentLength, limit)
	if rerr != nil {
		if err == nil {
			err = rerr
		}
		return nil, "", err
	}
	samlResponse, relayState, perr := parseACSQuery(body)
	if err == nil {
		err = perr
	}
	return samlResponse, relayState, err
}

// readBody is io.ReadAll into one buffer: min(contentLength, limit,
// presizeMax)+1 bytes up front when the length is declared (the extra byte
// takes the read that returns io.EOF; net/http's server and lambdahttp
// declare it for every body that is not chunked), 512 when it is not,
// doubling from there up to what is expected (the declared length, else
// the limit) when more comes.
func readBody(body io.Reader, contentLength, limit int64) ([]byte, error) {
	want := int64(math.MaxInt64)
	if limit >= 0 && limit < want {
		want = limit + 1 // the most a MaxBytesReader of limit yields, plus the EOF read
	}
	if contentLength >= 0 && contentLength < want {
		want = contentLength + 1
	}
	size := want
	if contentLength < 0 {
		size = 512 // none declared (chunked): io.ReadAll's start
	}
	buf := make([]byte, 0, min(size, presizeMax+1))
	for {
		if len(buf) == cap(buf) {
			c := max(2*int64(cap(buf)), 512)
			if int64(cap(buf)) < want && c > want {
				c = want
			}
			grown := make([]byte, len(buf), c)
			copy(grown, buf)
			buf = grown
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// errSemicolon is url.ParseQuery's error for a pair with a ';'.
var errSemicolon = errors.New("invalid semicolon separator in query")

// ampersands probes ParseQuery's parameter cap without allocating a
// string for an ordinary form.
const ampersands = "&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&"

// withinParamCap reports whether url.ParseQuery takes a query of n pairs,
// by parsing one of n empty pairs (cheap: nothing to unescape or store).
func withinParamCap(n int) error {
	probe := ampersands
	if n-1 <= len(probe) {
		probe = probe[:n-1]
	} else {
		probe = strings.Repeat("&", n-1)
	}
	_, err := url.ParseQuery(probe)
	return err
}

// parseACSQuery is url.ParseQuery(string(body)) then Get("SAMLResponse")
// and Get("RelayState"), with ParseQuery's error: the cap on the number of
// pairs, else the semicolon error if any pair has a ';', else the first
// escape error. It stops at that error. It unescapes the SAMLResponse in place in body, and
// other pairs' keys too; it must not be called twice on the same body.
func parseACSQuery(body []byte) (samlResponse []byte, relayState string, err error) {
	if err := withinParamCap(bytes.Count(body, []byte{'&'}) + 1); err != nil {
		return nil, "", err
	}
	// ParseQuery sets its error to this one at every pair with a ';',
	// over an escape error of an earlier pair; a ';' anywhere is in some
	// pair.
	if bytes.IndexByte(body, ';') >= 0 {
		return nil, "", errSemicolon
	}
	haveResponse, haveRelay := false, false
	for len(body) > 0 {
		pair := body
		if i := bytes.IndexByte(body, '&'); i >= 0 {
			pair, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		if len(pair) == 0 {
			continue
		}
		key, value := pair, pair[len(pair):]
		if i := bytes.IndexByte(pair, '='); i >= 0 {
			key, value = pair[:i], pair[i+1:]
		}
		key, err := unescapeInPlace(key)
		if err != nil {
			return nil, "", err
		}
		switch {
		case !haveResponse && string(key) == "SAMLResponse":
			v, err := unescapeInPlace(value)
			if err != nil {
				return nil, "", err
			}
			samlResponse, haveResponse = v[:len(v):len(v)], true
		case !haveRelay && string(key) == "RelayState":
			v, err := unescapeInPlace(value)
			if err != nil {
				return nil, "", err
			}
			relayState, haveRelay = string(v), true
		default:
			if err := checkEscapes(value); err != nil {
				return nil, "", err
			}
		}
	}
	return samlResponse, relayState, nil
}

// checkEscapes returns url.QueryUnescape's error for s, if any.
func checkEscapes(s []byte) error {
	for {
		i := bytes.IndexByte(s, '%')
		if i < 0 {
			return nil
		}
		if i+2 >= len(s) || !ishex(s[i+1]) || !ishex(s[i+2]) {
			return escapeError(s[i:])
		}
		s = s[i+3:]
	}
}

// escapeError is url.QueryUnescape's error for the bad escape starting s.
func escapeError(s []byte) error {
	return url.EscapeError(s[:min(len(s), 3)])
}

// unescapeInPlace is url.QueryUnescape of s written over s: it returns
// the decoded prefix of s, or QueryUnescape's error (s is then clobbered
// before the bad escape, never at or after it). The bytes between escapes
// and '+' signs are moved with copy.
func unescapeInPlace(s []byte) ([]byte, error) {
	pct := bytes.IndexByte(s, '%')
	plus := bytes.IndexByte(s, '+')
	if pct < 0 && plus < 0 {
		return s, nil
	}
	w, r := 0, 0 // write and read offsets; w <= r
	for {
		// The next '%' or '+' at or after r, whichever comes first.
		next := pct
		if next < 0 || (plus >= 0 && plus < next) {
			next = plus
		}
		if next < 0 {
			next = len(s)
		}
		if w != r {
			copy(s[w:], s[r:next])
		}
		w += next - r
		r = next
		if r == len(s) {
			return s[:w], nil
		}
		if s[r] == '+' {
			s[w] = ' '
			w, r = w+1, r+1
			if plus = bytes.IndexByte(s[r:], '+'); plus >= 0 {
				plus += r
			}
			continue
		}
		if r+2 >= len(s) || !ishex(s[r+1]) || !ishex(s[r+2]) {
			return nil, escapeError(s[r:])
		}
		s[w] = unhex(s[r+1])<<4 | unhex(s[r+2])
		w, r = w+1, r+3
		if pct = bytes.IndexByte(s[r:], '%'); pct >= 0 {
			pct += r
		}
	}
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unhex is the value of hex digit c (ishex(c)).
func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}
