package idpmeta

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

var testNow = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

func salesforceXML(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "pkg", "samlflex", "testdata", "idp-metadata", "salesforce.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// servers starts an https server (routes below) and a plain http one
// that counts its requests: a refused fetch must never reach it.
type servers struct {
	tls       *httptest.Server
	plain     *httptest.Server
	plainHits atomic.Int64
	release   chan struct{} // closed at cleanup: frees the slow handler
}

func newServers(t *testing.T) *servers {
	t.Helper()
	doc := salesforceXML(t)
	s := &servers{release: make(chan struct{})}
	s.plain = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.plainHits.Add(1)
		_, _ = w.Write(doc)
	}))
	mux := http.NewServeMux()
	mux.HandleFunc("/metadata", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(doc)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/metadata", http.StatusFound)
	})
	mux.HandleFunc("/to-http", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, s.plain.URL+"/metadata", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat(" ", 2048)))
	})
	mux.HandleFunc("/big-chunked", func(w http.ResponseWriter, r *http.Request) {
		for range 4 {
			_, _ = w.Write([]byte(strings.Repeat(" ", 512)))
			w.(http.Flusher).Flush() // no Content-Length: the body cap must hold
		}
	})
	// The slow handlers stall until the test's cleanup, whatever happens to
	// the request: returning when its context ended let the body finish
	// early once under load, and the loader then read a complete (short)
	// answer instead of timing out.
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-s.release
	})
	mux.HandleFunc("/slow-body", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<?xml"))
		w.(http.Flusher).Flush()
		<-s.release
	})
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gone", http.StatusNotFound)
	})
	s.tls = httptest.NewUnstartedServer(mux)
	// The untrusted-certificate test makes the server log a handshake
	// error; it is expected, not noise worth reading.
	s.tls.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.tls.StartTLS()
	t.Cleanup(func() {
		close(s.release)
		s.tls.Close()
		s.plain.Close()
	})
	return s
}

func TestFetch(t *testing.T) {
	t.Parallel()
	s := newServers(t)
	tests := []struct {
		name       string
		url        string
		maxBytes   int64
		timeout    time.Duration
		wantPublic string // "" means success
		wantDetail string
	}{
		{name: "https", url: s.tls.URL + "/metadata"},
		{name: "redirect to https", url: s.tls.URL + "/moved"},
		{name: "http", url: s.plain.URL + "/metadata", wantPublic: "must be fetched over https://", wantDetail: s.plain.URL},
		{name: "redirect to http", url: s.tls.URL + "/to-http", wantPublic: "must be fetched over https://", wantDetail: "redirects to " + s.plain.URL},
		{name: "other scheme", url: "ftp://127.0.0.1/metadata", wantPublic: "must be fetched over https://", wantDetail: "ftp://"},
		{name: "no host", url: "https:///metadata", wantPublic: "not an absolute https:// URL", wantDetail: "has no host"},
		{name: "unparsable", url: "https://[::1", wantPublic: "not an absolute https:// URL", wantDetail: "metadata URL"},
		{name: "redirect loop", url: s.tls.URL + "/loop", wantPublic: "redirects too many times", wantDetail: "more than 5 redirects"},
		{name: "oversize with length", url: s.tls.URL + "/big", maxBytes: 1024, wantPublic: "larger than samlflex accepts (1024 bytes)", wantDetail: "Content-Length 2048"},
		{name: "oversize chunked", url: s.tls.URL + "/big-chunked", maxBytes: 1024, wantPublic: "larger than samlflex accepts (1024 bytes)", wantDetail: "body over 1024 bytes"},
		{name: "at the size cap", url: s.tls.URL + "/big", maxBytes: 2048},
		{name: "timeout before headers", url: s.tls.URL + "/slow", timeout: 200 * time.Millisecond, wantPublic: "did not answer within 200ms", wantDetail: "/slow"},
		{name: "timeout in body", url: s.tls.URL + "/slow-body", timeout: 200 * time.Millisecond, wantPublic: "did not answer within 200ms", wantDetail: "/slow-body"},
		{name: "not found", url: s.tls.URL + "/gone", wantPublic: "HTTP status was not 200", wantDetail: "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := &Loader{Client: s.tls.Client(), MaxBytes: tt.maxBytes, Timeout: tt.timeout}
			body, err := l.Fetch(context.Background(), tt.url)
			if tt.wantPublic == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(body) == 0 {
					t.Error("empty body")
				}
				return
			}
			var e *samlflex.Error
			if !errors.As(err, &e) || e.Code != samlflex.CodeInvalidConfig {
				t.Fatalf("err = %v, want invalid_config", err)
			}
			if !strings.Contains(e.Public, tt.wantPublic) {
				t.Errorf("public = %q, want %q", e.Public, tt.wantPublic)
			}
			if !strings.Contains(err.Error(), tt.wantDetail) {
				t.Errorf("detail = %q, want %q", err.Error(), tt.wantDetail)
			}
		})
	}
	// Checked after the parallel subtests (t.Run returns once they end).
	t.Cleanup(func() {
		if n := s.plainHits.Load(); n != 0 {
			t.Errorf("the plain http server got %d requests, want none", n)
		}
	})
}

// TestFetchUntrustedCertificate: a server whose certificate the client does
// not trust is a network error, never a fallback to something weaker.
func TestFetchUntrustedCertificate(t *testing.T) {
	t.Parallel()
	s := newServers(t)
	_, err := (&Loader{}).Fetch(context.Background(), s.tls.URL+"/metadata")
	var e *samlflex.Error
	if !errors.As(err, &e) || !strings.Contains(e.Public, "network or TLS error") || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v, want the TLS refusal", err)
	}
}

// TestFetchKeepsCallerClient: the redirect rule is set on a copy.
func TestFetchKeepsCallerClient(t *testing.T) {
	t.Parallel()
	s := newServers(t)
	c := s.tls.Client()
	if _, err := (&Loader{Client: c}).Fetch(context.Background(), s.tls.URL+"/metadata"); err != nil {
		t.Fatal(err)
	}
	if c.CheckRedirect != nil {
		t.Error("Fetch changed the caller's client")
	}
}

func TestFetchCallerContext(t *testing.T) {
	t.Parallel()
	s := newServers(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&Loader{Client: s.tls.Client()}).Fetch(ctx, s.tls.URL+"/metadata")
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled in the chain", err)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	s := newServers(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "salesforce.xml")
	if err := os.WriteFile(file, salesforceXML(t), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.xml")
	if err := os.WriteFile(big, []byte(strings.Repeat(" ", 2049)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		source     string
		maxBytes   int64
		wantPublic string
	}{
		{name: "file", source: file},
		{name: "file with spaces around", source: " " + file + "\n"},
		{name: "https URL", source: s.tls.URL + "/metadata"},
		{name: "http URL", source: s.plain.URL + "/metadata", wantPublic: "must be fetched over https://"},
		{name: "HTTP URL in capitals", source: strings.Replace(s.plain.URL, "http", "HTTP", 1) + "/metadata", wantPublic: "must be fetched over https://"},
		{name: "file URL", source: "file://" + file, wantPublic: "must be fetched over https://"},
		{name: "missing file", source: filepath.Join(dir, "nope.xml"), wantPublic: "cannot read the IdP metadata file"},
		{name: "directory", source: dir, wantPublic: "cannot read the IdP metadata file"},
		{name: "oversize file", source: big, maxBytes: 2048, wantPublic: "larger than samlflex accepts (2048 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := &Loader{Client: s.tls.Client(), MaxBytes: tt.maxBytes}
			body, err := l.Load(context.Background(), tt.source)
			if tt.wantPublic == "" {
				if err != nil || !strings.Contains(string(body), "EntityDescriptor") {
					t.Fatalf("got %d bytes, %v", len(body), err)
				}
				return
			}
			var e *samlflex.Error
			if !errors.As(err, &e) || e.Code != samlflex.CodeInvalidConfig || !strings.Contains(e.Public, tt.wantPublic) {
				t.Fatalf("err = %v, want invalid_config %q", err, tt.wantPublic)
			}
		})
	}
	t.Cleanup(func() {
		if n := s.plainHits.Load(); n != 0 {
			t.Errorf("the plain http server got %d requests, want none", n)
		}
	})
}

func TestImport(t *testing.T) {
	t.Parallel()
	s := newServers(t)
	l := &Loader{Client: s.tls.Client()}
	m, err := l.Import(context.Background(), s.tls.URL+"/moved", "", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if m.EntityID != "https://acme.my.salesforce.com" || m.SSOURL != "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect" || len(m.Certificates) != 1 {
		t.Errorf("got %+v", m)
	}
	// The parser's refusals come through unchanged.
	_, err = l.Import(context.Background(), s.tls.URL+"/metadata", "https://other.example.com", testNow)
	if samlflex.CodeOf(err) != samlflex.CodeInvalidConfig || !strings.Contains(samlflex.PublicOf(err), "no identity provider with the entityID given") {
		t.Errorf("err = %v, want the unknown-entityID refusal", err)
	}
	_, err = l.Import(context.Background(), s.plain.URL, "", testNow)
	if !strings.Contains(samlflex.PublicOf(err), "https://") {
		t.Errorf("err = %v, want the https refusal", err)
	}
}
