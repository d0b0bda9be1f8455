package docscheck

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// root is the repository root, relative to this package's directory.
const root = "../.."

// readmeMaxBytes is the README's budget: what samlflex is, the two
// commands, how a login works, the commands and links. More goes to docs/.
const readmeMaxBytes = 10 * 1024

func TestREADMEIsShort(t *testing.T) {
	t.Parallel()
	fi, err := os.Stat(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > readmeMaxBytes {
		t.Errorf("README.md is %d bytes, over %d: move detail into docs/ or CONTRIBUTING.md", fi.Size(), readmeMaxBytes)
	}
}

// docFiles are the Markdown files whose links are checked, relative to root.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md", "CONTRIBUTING.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatal("no docs/*.md found: is root right?")
	}
	for _, d := range docs {
		rel, err := filepath.Rel(root, d)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, rel)
	}
	return files
}

func TestRelativeLinksResolve(t *testing.T) {
	t.Parallel()
	for _, file := range docFiles(t) {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(filepath.Join(root, file))
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range links(string(src)) {
				if isExternal(l.target) {
					// The README is read in a checkout, often offline:
					// everything it points at must be in the repository.
					if file == "README.md" {
						t.Errorf("README.md:%d links outside the repository: %s", l.line, l.target)
					}
					continue
				}
				if msg := checkLink(file, l.target); msg != "" {
					t.Errorf("%s:%d: link %s: %s", file, l.line, l.target, msg)
				}
			}
		})
	}
}

// checkLink says what is wrong with a relative link from file, or "".
func checkLink(file, target string) string {
	path, anchor, _ := strings.Cut(target, "#")
	dest := file
	if path != "" {
		dest = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
	}
	fi, err := os.Stat(filepath.Join(root, dest))
	if err != nil {
		return "no such file " + dest
	}
	if anchor == "" {
		return ""
	}
	if fi.IsDir() || !strings.HasSuffix(dest, ".md") {
		return "an anchor into something that is not a Markdown file"
	}
	src, err := os.ReadFile(filepath.Join(root, dest))
	if err != nil {
		return err.Error()
	}
	if !anchors(string(src))[anchor] {
		return "no heading with anchor #" + anchor + " in " + dest
	}
	return ""
}

func isExternal(target string) bool {
	for _, p := range []string{"http://", "https://", "mailto:", "//"} {
		if strings.HasPrefix(target, p) {
			return true
		}
	}
	return false
}

type link struct {
	line   int
	target string
}

var (
	linkRE = regexp.MustCompile(`\]\(([^()\s]+)\)`)
	codeRE = regexp.MustCompile("`[^`]*`")
)

// links returns the targets of inline Markdown links outside code blocks
// and code spans.
func links(src string) []link {
	var out []link
	inFence := false
	sc := bufio.NewScanner(strings.NewReader(src))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		// A code span may sit inside a link's text ([`x`](y)) but never
		// holds a real link: drop the spans' contents, keep the rest.
		line = codeRE.ReplaceAllString(line, "``")
		for _, m := range linkRE.FindAllStringSubmatch(line, -1) {
			out = append(out, link{line: n, target: m[1]})
		}
	}
	return out
}

// anchors returns the anchors of src's headings, named as GitHub names
// them: lower case, punctuation dropped, spaces as hyphens, and -1, -2 for
// repeats.
func anchors(src string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	inFence := false
	sc := bufio.NewScanner(strings.NewReader(src))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		if inFence || !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(line, "#"))
		slug := slugify(text)
		if n := seen[slug]; n > 0 {
			out[slug+"-"+strconv.Itoa(n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

func slugify(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

func TestSlugify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"How a login works", "how-a-login-works"},
		{"Locally (`samlflex serve`)", "locally-samlflex-serve"},
		{"1. Identity Provider", "1-identity-provider"},
		{"`samlflex doctor`: check a live deployment", "samlflex-doctor-check-a-live-deployment"},
		{"Switching from the legacy Twilio SSO", "switching-from-the-legacy-twilio-sso"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			if got := slugify(tc.in); got != tc.want {
				t.Errorf("slugify(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestCheckLinkRefuses: the checker itself must catch a missing file and a
// missing heading, or the test above would pass on anything.
func TestCheckLinkRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, target string
		ok           bool
	}{
		{"existing file", "docs/errors.md", true},
		{"existing heading", "docs/errors.md#when-a-login-fails-error-codes", true},
		{"same-file heading", "#how-a-login-works", true},
		{"existing directory", "docs/", true},
		{"missing file", "docs/nope.md", false},
		{"missing heading", "docs/errors.md#nope", false},
		{"missing same-file heading", "#nope", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msg := checkLink("README.md", tc.target)
			if (msg == "") != tc.ok {
				t.Errorf("checkLink(README.md, %q) = %q, want ok=%v", tc.target, msg, tc.ok)
			}
		})
	}
}

// TestREADMELinksEveryDoc: the README is the index of the documentation,
// so a new docs/*.md must be linked from it to be found.
func TestREADMELinksEveryDoc(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	linked := map[string]bool{}
	for _, l := range links(string(src)) {
		path, _, _ := strings.Cut(l.target, "#")
		linked[filepath.Clean(path)] = true
	}
	for _, f := range docFiles(t)[1:] {
		if !linked[filepath.Clean(f)] {
			t.Errorf("README.md does not link %s", f)
		}
	}
}
