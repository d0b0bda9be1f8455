package httpapi

import (
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samlflex/samlflex/internal/demo"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/store/sqlitestore"
)

// TestReplayAfterCrash is the crash that the embedded store's deferred
// one-time-use write can lose, end to end: a login is granted, the
// machine goes down before the record reached the disk (the data file as
// it was before that login, with the serving handle still registered),
// and after the restart the same response and cookie are posted again.
// They must not get a token: without the replay epoch they would (the
// record is gone), with it they get a fresh login at the IdP, and the
// answer to that login is granted.
func TestReplayAfterCrash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "samlflex.sqlite")
	set := &keys.Set{Current: samlflextest.KeyPair(t, keys.P256, "crash")}
	serve := func(path, boot string) (*Server, *sqlitestore.Store) {
		t.Helper()
		st, err := sqlitestore.Open(path, sqlitestore.Options{BootID: func() (string, error) { return boot, nil }, Now: samlflextest.Clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		srv, err := New(Config{BaseURL: samlflextest.BaseURL, Store: st, Keys: samlflextest.StaticKeys{Set: set},
			Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: samlflextest.Clock})
		if err != nil {
			t.Fatal(err)
		}
		return srv, st
	}
	srv, st := serve(path, "boot-1")
	if _, err := st.Put(t.Context(), samlflextest.Account(t), 0, samlflextest.Now); err != nil {
		t.Fatal(err)
	}
	signer := newSalesforceSigner(t)
	// start follows the login link and returns the IdP's signed answer
	// to it, posted with the login cookie.
	n := 0
	start := func(srv *Server) posted {
		t.Helper()
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, samlflextest.ACSURL+"/login", nil))
		return answer(t, rec.Result(), signer, &n)
	}
	post := func(srv *Server, l posted) *http.Response {
		t.Helper()
		req := samlflextest.ACSPost(l.response, "")
		for _, c := range l.cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Result()
	}
	login := start(srv)
	// The disk as the crash leaves it: the login's record never got there.
	snapshot := filepath.Join(dir, "after-crash.sqlite")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(snapshot+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if resp := post(srv, login); !granted(resp) {
		t.Fatalf("first post: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := post(srv, login); resp.StatusCode != http.StatusConflict {
		t.Fatalf("replay before the crash: %d, want 409", resp.StatusCode)
	}

	srv2, st2 := serve(snapshot, "boot-2")
	if st2.ReplayEpoch() != 1 {
		t.Fatalf("replay epoch %d after the crash, want 1", st2.ReplayEpoch())
	}
	resp := post(srv2, login)
	if granted(resp) {
		t.Fatal("a response used before the crash got a token after it")
	}
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), samlflextest.IdPSSOURL+"?") {
		t.Fatalf("replay after the crash: %d %q, want a fresh login at the IdP", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The fresh login completes.
	if resp := post(srv2, answer(t, resp, signer, &n)); !granted(resp) {
		t.Fatalf("fresh login after the crash: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// And a login started after the restart is not bounced.
	if resp := post(srv2, start(srv2)); !granted(resp) {
		t.Fatalf("login started after the restart: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// posted is what the browser posts to the ACS: the SAMLResponse and the
// cookies.
type posted struct {
	response string
	cookies  []*http.Cookie
}

// answer is the IdP's signed response to the login that resp (the login
// link's or a bounce's redirect) started, as the browser posts it: with
// the login cookie resp set.
func answer(t *testing.T, resp *http.Response, signer *salesforceSigner, n *int) posted {
	t.Helper()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	areq, err := demo.ParseRedirectRequest(loc.Query().Get("SAMLRequest"))
	if err != nil {
		t.Fatalf("%d %q: %v", resp.StatusCode, loc, err)
	}
	*n++
	xml, err := signer.sign(fmt.Sprintf("_respc%d", *n), fmt.Sprintf("_asrtc%d", *n), areq.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := posted{response: base64.StdEncoding.EncodeToString(xml)}
	for _, c := range resp.Cookies() {
		if c.MaxAge >= 0 && c.Value != "" {
			p.cookies = append(p.cookies, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	if len(p.cookies) == 0 {
		t.Fatalf("%d %q set no login cookie", resp.StatusCode, loc)
	}
	return p
}

// granted reports whether resp is a login: 303 to the start URL with a
// token.
func granted(resp *http.Response) bool {
	return resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), samlflextest.StartURL+"#token=")
}
