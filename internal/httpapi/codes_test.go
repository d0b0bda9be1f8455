package httpapi

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// TestEveryClassHasAStatus: a class without a status would fall back to
// 403 silently; every class the catalogue uses must be mapped.
func TestEveryClassHasAStatus(t *testing.T) {
	t.Parallel()
	for _, c := range samlflex.Codes() {
		if _, ok := statusByClass[c.Class]; !ok {
			t.Errorf("%s: class %q has no HTTP status in statusByClass", c.Code, c.Class)
		}
	}
	if got := statusFor("no_such_code"); got != http.StatusForbidden {
		t.Errorf("unknown code: %d, want 403", got)
	}
}

// TestErrorsDocTable: docs/errors.md's error-code table (| Code | HTTP | ... |)
// lists every code of samlflex.Codes exactly once, nothing else, with the
// status statusFor gives it. A row may list several codes; its HTTP cell
// then holds one status for all, or one per code separated by "/".
func TestErrorsDocTable(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "errors.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := errorTableRows(t, string(b))
	seen := map[samlflex.Code]int{}
	for _, r := range rows {
		for i, code := range r.codes {
			seen[code]++
			if _, ok := samlflex.Lookup(code); !ok {
				t.Errorf("docs/errors.md lists %s, which is not a samlflex code", code)
				continue
			}
			want := statusFor(code)
			got := r.statuses[0]
			if len(r.statuses) > 1 {
				got = r.statuses[i]
			}
			if got != want {
				t.Errorf("docs/errors.md gives %s HTTP %d, statusFor gives %d", code, got, want)
			}
		}
	}
	for _, c := range samlflex.Codes() {
		if n := seen[c.Code]; n != 1 {
			t.Errorf("docs/errors.md lists %s %d times, want once", c.Code, n)
		}
	}
}

type errorRow struct {
	codes    []samlflex.Code
	statuses []int
}

var backquoted = regexp.MustCompile("`([a-z0-9_]+)`")

// errorTableRows parses the markdown table whose header starts with
// "| Code | HTTP |".
func errorTableRows(t *testing.T, doc string) []errorRow {
	t.Helper()
	lines := strings.Split(doc, "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.ReplaceAll(l, " ", ""), "|Code|HTTP|") {
			start = i
			break
		}
	}
	if start < 0 || start+2 > len(lines) {
		t.Fatal(`docs/errors.md has no error table (header "| Code | HTTP | ...")`)
	}
	var rows []errorRow
	for _, l := range lines[start+2:] {
		if !strings.HasPrefix(l, "|") {
			break
		}
		cells := strings.Split(strings.Trim(l, "|"), "|")
		if len(cells) < 3 {
			t.Fatalf("error table row %q has %d cells", l, len(cells))
		}
		var r errorRow
		for _, m := range backquoted.FindAllStringSubmatch(cells[0], -1) {
			r.codes = append(r.codes, samlflex.Code(m[1]))
		}
		for _, s := range strings.Split(strings.TrimSpace(cells[1]), "/") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				t.Fatalf("error table row %q: HTTP cell %q is not a status (or statuses separated by /)", l, cells[1])
			}
			r.statuses = append(r.statuses, n)
		}
		if len(r.codes) == 0 || len(r.statuses) != 1 && len(r.statuses) != len(r.codes) {
			t.Fatalf("error table row %q: %d codes, %d statuses", l, len(r.codes), len(r.statuses))
		}
		rows = append(rows, r)
	}
	return rows
}
