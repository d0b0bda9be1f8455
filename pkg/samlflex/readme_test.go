package samlflex

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorsDocListsEveryCode keeps the error catalogue (docs/errors.md)
// true: every code an admin can meet has a row in its table. A row is
// "| `code` | status | text |"; several codes may share a row.
func TestErrorsDocListsEveryCode(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "errors.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 5 {
			t.Errorf("docs/errors.md: row %q has fewer than three columns", line)
			continue
		}
		for _, c := range strings.Split(cells[1], ",") {
			documented[strings.Trim(strings.TrimSpace(c), "`")] = true
		}
	}
	for _, c := range Codes() {
		if !documented[string(c.Code)] {
			t.Errorf("docs/errors.md has no table row for error code %s", c.Code)
		}
	}
	for code := range documented {
		if _, ok := Lookup(Code(code)); !ok {
			t.Errorf("docs/errors.md documents %s, which is not an error code", code)
		}
	}
}
