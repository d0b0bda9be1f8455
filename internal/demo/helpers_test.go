package demo

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testSID is the demo account of the tests.
const testSID = "ACdeadbeefdeadbeefdeadbeefdeadbeef"

// testNow is the pinned clock of the tests (a constant instant; Go has no
// time constants).
var testNow = time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

// newTestKey generates an IdP key valid at testNow. Top-level tests make
// one and share it with their subtests: RSA generation is the slowest step.
func newTestKey(t *testing.T) *IdPKey {
	t.Helper()
	k, err := GenerateIdPKey(testNow.Add(-24*time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// deflateB64 encodes an XML request as the HTTP-Redirect binding does.
func deflateB64(t *testing.T, xml string) string {
	t.Helper()
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(xml)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// formFields returns the action and hidden fields of the first form in a
// page, HTML-unescaped as a browser would read them.
func formFields(t *testing.T, page string) (string, map[string]string) {
	t.Helper()
	inputRE := regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	formRE := regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	m := formRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form in page:\n%s", page)
	}
	fields := map[string]string{}
	for _, f := range inputRE.FindAllStringSubmatch(page, -1) {
		fields[html.UnescapeString(f[1])] = html.UnescapeString(f[2])
	}
	return html.UnescapeString(m[1]), fields
}

func readBody(t *testing.T, r *http.Response) string {
	t.Helper()
	defer func() { _ = r.Body.Close() }()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// inlineBlocks returns the contents of every <tag>...</tag> in page.
func inlineBlocks(page, tag string) []string {
	var out []string
	for {
		i := strings.Index(page, "<"+tag+">")
		if i < 0 {
			return out
		}
		page = page[i+len(tag)+2:]
		j := strings.Index(page, "</"+tag+">")
		if j < 0 {
			return out
		}
		out = append(out, page[:j])
		page = page[j:]
	}
}
