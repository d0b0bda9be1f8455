package acs

import (
	"testing"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

func TestRedirectTarget(t *testing.T) {
	t.Parallel()
	a := &samlflex.Account{AccountSID: "AC1", StartURL: "https://flex.example.com/desk", AllowedRedirects: []string{"https://flex.example.com/sup"}}
	for relay, want := range map[string]string{
		"":                                  "https://flex.example.com/desk",
		"https://flex.example.com/sup":      "https://flex.example.com/sup",
		"https://flex.example.com/desk":     "https://flex.example.com/desk",
		"https://flex.example.com/sup/../x": "https://flex.example.com/desk",
		"https://evil.example/":             "https://flex.example.com/desk",
		"//evil.example":                    "https://flex.example.com/desk",
		"https://flex.example.com/sup?x=1":  "https://flex.example.com/desk",
		"javascript:alert(document.cookie)": "https://flex.example.com/desk",
	} {
		got, err := RedirectTarget(a, relay)
		if err != nil || got.String() != want {
			t.Errorf("RelayState %q: got %v %v, want %s", relay, got, err, want)
		}
	}
	if SubjectHash("jane") == SubjectHash("john") || len(SubjectHash("jane")) != 16 {
		t.Fatal("subject hash")
	}
}
