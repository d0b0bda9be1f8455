package samlflex

import (
	"regexp"
	"testing"
)

// TestPublicMessagesNameNoLayer enforces the rule in doc.go: public
// messages name settings by their stored name, never an HTTP status, a CLI
// command or a command-line flag.
func TestPublicMessagesNameNoLayer(t *testing.T) {
	t.Parallel()
	forbidden := []struct {
		what string
		re   *regexp.Regexp
	}{
		{"an HTTP status", regexp.MustCompile(`(^|[^-\w])[1-5][0-9][0-9]\b`)},
		{"a command-line flag", regexp.MustCompile(`(^|[\s(])--?[a-z]`)},
		{"a CLI command", regexp.MustCompile("`samlflex|samlflex (account (put|get|list|show|delete)|flex check|dev|serve)\\b")},
	}
	for code, msg := range publicMessages {
		for _, f := range forbidden {
			if m := f.re.FindString(msg); m != "" {
				t.Errorf("%s: public message names %s (%q): %s", code, f.what, m, msg)
			}
		}
	}
}
