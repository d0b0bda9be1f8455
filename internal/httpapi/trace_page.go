package httpapi

import (
	"html"
	"io"
	"strings"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// traceRow is one failed check as the error page shows it: what was
// checked, what samlflex expected, what the response carried, and the
// setting that fixes it. Rows come from the decision trace of
// pkg/samlflex (traceRows), the one source the log and `samlflex account
// check` use too.
type traceRow struct {
	Check, Expected, Received, Setting, Note string
}

// maxPageRows bounds the table: the verifier reports at most one row per
// check, so this is only a guard against a trace that grew by mistake.
const maxPageRows = 24

// writeTraceTable writes the failed checks as a small table. Every cell is
// escaped with html.EscapeString: received values come from the identity
// provider (and, before the signature is verified, from whoever posted the
// form), so they are text, never markup. Empty rows write nothing.
func writeTraceTable(w io.Writer, rows []traceRow) {
	if len(rows) == 0 {
		return
	}
	if len(rows) > maxPageRows {
		rows = rows[:maxPageRows]
	}
	e := html.EscapeString
	var b strings.Builder
	b.WriteString(`<h2>What samlflex checked</h2>
<table id="checks"><thead><tr><th>Check</th><th>Expected</th><th>Received</th><th>Setting to fix</th></tr></thead><tbody>
`)
	for _, r := range rows {
		received := e(r.Received)
		if r.Note != "" {
			received += `<br><small>` + e(r.Note) + `</small>`
		}
		b.WriteString(`<tr><td><code>` + e(r.Check) + `</code></td><td>` + e(r.Expected) + `</td><td>` + received + `</td><td>` + e(r.Setting) + "</td></tr>\n")
	}
	b.WriteString("</tbody></table>\n")
	_, _ = io.WriteString(w, b.String())
}

// traceTableStyle keeps long URLs and fingerprints inside the table.
const traceTableStyle = `table{border-collapse:collapse;width:100%;font-size:.9rem;margin:1rem 0}th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}th{background:#f5f5f7}td:first-child,th:first-child{overflow-wrap:normal;white-space:nowrap}h2{font-size:1.1rem}`

// traceRows are the failed checks of a trace, for the page. Checks that
// passed stay in the log and in `samlflex account check`: the page is
// for what to fix.
func traceRows(t *samlflex.Trace) []traceRow {
	var rows []traceRow
	for _, c := range t.Failed() {
		rows = append(rows, traceRow{Check: c.Name, Expected: c.Expected, Received: c.Received, Setting: c.Setting, Note: c.Note})
	}
	return rows
}
