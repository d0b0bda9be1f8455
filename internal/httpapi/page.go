package httpapi

import (
	"html"
	"io"
	"log/slog"
	"net/http"

	"github.com/samlflex/samlflex/internal/acs"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// maxErrLog bounds the error detail in a log line: our own words around at
// most about acs.MaxLogText bytes of quoted IdP text.
const maxErrLog = acs.MaxLogText + 128

// errorPage renders the error page. It escapes each value with
// html.EscapeString instead of using html/template: the page has four
// fields, and html/template's reflection (MethodByName) stops the linker
// from dropping unused methods, which grew every Lambda bootstrap by
// megabytes.
//
// rows are the failed checks of the decision trace (none for errors that
// are not about a SAML response).
func errorPage(w io.Writer, title, message, code, requestID string, rows ...traceRow) {
	e := html.EscapeString
	_, _ = io.WriteString(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>`+e(title)+` · samlflex</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.4rem}.box{border-left:4px solid #c0392b;background:#fdf2f1;padding:1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dt{color:#666}code{font-size:1rem}`+traceTableStyle+`</style></head>
<body><h1>`+e(title)+`</h1><p class="box" id="message">`+e(message)+`</p>
<dl><dt>Error code</dt><dd><code id="code">`+e(code)+`</code></dd><dt>Request ID</dt><dd><code id="request-id">`+e(requestID)+`</code></dd></dl>
`)
	writeTraceTable(w, rows)
	_, _ = io.WriteString(w, `<p>Administrators: the samlflex log has the details under this request ID.</p></body></html>
`)
}

// statusByClass maps the core's failure classes (samlflex.Codes gives each
// code one) to HTTP statuses: 4xx for what the request or the settings got
// wrong, 5xx only for our own or our dependencies' failures. The status
// of a code is decided here and only here; docs/errors.md's table is
// checked against it (TestErrorsDocTable).
var statusByClass = map[samlflex.Class]int{
	samlflex.ClassInput:       http.StatusBadRequest,
	samlflex.ClassTooLarge:    http.StatusRequestEntityTooLarge,
	samlflex.ClassRefused:     http.StatusForbidden,
	samlflex.ClassNotFound:    http.StatusNotFound,
	samlflex.ClassNotAllowed:  http.StatusMethodNotAllowed,
	samlflex.ClassConflict:    http.StatusConflict,
	samlflex.ClassUnavailable: http.StatusServiceUnavailable,
	samlflex.ClassUpstream:    http.StatusBadGateway,
	samlflex.ClassServer:      http.StatusInternalServerError,
}

// statusFor is the HTTP status of a code. A code outside the catalogue
// (none is built today) refuses the login with 403, as the switch this
// replaced did by default.
func statusFor(code samlflex.Code) int {
	if info, ok := samlflex.Lookup(code); ok {
		if status, ok := statusByClass[info.Class]; ok {
			return status
		}
	}
	return http.StatusForbidden
}

// renderError writes the error page. It never shows err.Error(): the page
// has the code's public sentence, the code and the request id; the detail
// goes to the log (Warn for 4xx, Error for 5xx).
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code := samlflex.CodeOf(err)
	status := statusFor(code)
	id := requestID(r)
	level := s.cfg.Logger.Warn
	if status >= 500 {
		level = s.cfg.Logger.Error
	}
	// The detail may quote IdP- or client-controlled text (a StatusMessage,
	// an issuer, a role): cut it so that one request cannot write a huge
	// log line.
	attrs := []any{"request_id", id, "code", string(code), "status", status, "err", acs.ClipTo(err.Error(), maxErrLog), "path", acs.Clip(r.URL.Path)}
	trace := samlflex.TraceOf(err)
	if trace != nil {
		// The whole decision trace, under the request id the page shows.
		attrs = append(attrs, slog.Any("trace", acs.TraceLogValue(trace)))
	}
	level("refused", attrs...)
	title := "Sign-in failed"
	switch {
	case status == http.StatusNotFound:
		title = "Not found"
	case status >= 500:
		title = "Sign-in is unavailable"
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Samlflex-Error", string(code))
	setPageSecurityHeaders(h)
	w.WriteHeader(status)
	errorPage(w, title, samlflex.PublicOf(err), string(code), id, traceRows(trace)...)
}

func setPageSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}
