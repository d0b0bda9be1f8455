package main

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/store/boltstore"
	"github.com/samlflex/samlflex/internal/store/sqlitestore"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// TestAccountWhileServing: the account commands work on serve's data
// directory while serve runs, and serve applies a change to the next
// request without a restart.
func TestAccountWhileServing(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	cert, _ := testCert(t, t.TempDir(), "idp.crt")
	s, _ := startServer(t, nil, "serve", "--addr", "127.0.0.1:0", "--data", data)
	b := newBrowser(t)
	login := s.BaseURL + "/v1/Accounts/" + sidA + "/saml2/login"
	if resp, _ := b.get(login); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("login before the account exists: %d", resp.StatusCode)
	}

	mustCLI(t, exitOK, nil, fullPut(data, sidA, cert)...)
	if r := mustCLI(t, exitOK, nil, "account", "list", "--data", data); !strings.Contains(r.stdout, sidA) {
		t.Errorf("account list during serve lacks %s:\n%s", sidA, r.stdout)
	}
	waitForLogin(t, b, login, "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect?")

	// A changed setting reaches the next logins.
	const moved = "https://acme-new.my.salesforce.com/idp/endpoint/HttpRedirect"
	mustCLI(t, exitOK, nil, "account", "put", "--data", data, "--account-sid", sidA, "--idp-sso-url", moved)
	if got := decodeAccount(t, mustCLI(t, exitOK, nil, "account", "get", "--data", data, "--account-sid", sidA, "--output", "json").stdout); got.Version != 2 {
		t.Errorf("version after the update during serve: %d", got.Version)
	}
	waitForLogin(t, b, login, moved+"?")

	mustCLI(t, exitOK, nil, "account", "delete", "--data", data, "--account-sid", sidA)
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, _ := b.get(login)
		if resp.StatusCode == http.StatusNotFound && resp.Header.Get("X-Samlflex-Error") == "unknown_account" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("login still answers %d 5s after the account was deleted", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitForLogin polls the login link until it redirects to wantPrefix.
// serve reads accounts at every request (no cache), so the first try
// should succeed; the 5 s bound is the "within a few seconds" promise.
func waitForLogin(t *testing.T, b *browser, login, wantPrefix string) {
	t.Helper()
	start := time.Now()
	for {
		resp, _ := b.get(login)
		loc := resp.Header.Get("Location")
		if resp.StatusCode == http.StatusFound && strings.HasPrefix(loc, wantPrefix) {
			t.Logf("login redirects to %s after %s", wantPrefix, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("login: %d to %q, still not %s after 5s", resp.StatusCode, loc, wantPrefix)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// oldDataDir writes dir/samlflex.db with the bbolt store that samlflex used
// before SQLite: account sidA (at version 2, with a real certificate so
// that serve can publish its metadata) and one live assertion record.
func oldDataDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	certPath, _ := testCert(t, t.TempDir(), "idp.crt")
	pemCert, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(filepath.Join(dir, boltFileName), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := samlflex.Account{AccountSID: sidA, FriendlyName: "from bbolt", IdPCertificates: []string{string(pemCert)},
		IdPIssuer: "https://acme.my.salesforce.com", IdPSSOURL: "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect",
		StartURL: "https://flex.twilio.com/agent-desktop"}
	now := time.Now()
	for v := range int64(2) {
		if _, err := st.Put(t.Context(), a, v, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.MarkUsed(t.Context(), sidA+"#_used", now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// assertMigrated checks the files after a migration of oldDataDir.
func assertMigrated(t *testing.T, dir string) {
	t.Helper()
	for _, f := range []string{storeFileName, boltFileName + ".migrated"} {
		if _, err := os.Lstat(filepath.Join(dir, f)); err != nil {
			t.Errorf("after migration: %v", err)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, boltFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still in place after migration: %v", boltFileName, err)
	}
}

// TestServeMigratesOldDataDir: serve started on an older samlflex's
// directory migrates it, says so in its log, and serves its accounts.
func TestServeMigratesOldDataDir(t *testing.T) {
	t.Parallel()
	dir := oldDataDir(t)
	s, out := startServer(t, nil, "serve", "--addr", "127.0.0.1:0", "--data", dir)
	if log := out.String(); !strings.Contains(log, `"msg":"store_migrated"`) || !strings.Contains(log, `"accounts":1`) || !strings.Contains(log, `"assertions":1`) {
		t.Errorf("serve's log does not report the migration:\n%s", log)
	}
	assertMigrated(t, dir)
	if resp, body := newBrowser(t).get(s.BaseURL + "/v1/Accounts/" + sidA + "/saml2/metadata"); resp.StatusCode != http.StatusOK {
		t.Errorf("metadata of the migrated account: %d %s", resp.StatusCode, body)
	}
}

// TestAccountCommandMigratesOldDataDir: the first account command on an
// old directory migrates it, reports that on stderr (stdout stays the
// JSON a script parses), and keeps the account's version.
func TestAccountCommandMigratesOldDataDir(t *testing.T) {
	t.Parallel()
	dir := oldDataDir(t)
	r := mustCLI(t, exitOK, nil, "account", "get", "--data", dir, "--account-sid", sidA, "--output", "json")
	if got := decodeAccount(t, r.stdout); got.Version != 2 || got.FriendlyName != "from bbolt" {
		t.Errorf("migrated account: %+v", got)
	}
	if !strings.Contains(r.stderr, "Migrated the embedded store in "+dir) || !strings.Contains(r.stderr, "1 account(s), 1 unexpired assertion record(s)") ||
		!strings.Contains(r.stderr, "kept as samlflex.db.migrated") {
		t.Errorf("stderr does not report the migration: %q", r.stderr)
	}
	assertMigrated(t, dir)
	// Once only.
	if r := mustCLI(t, exitOK, nil, "account", "list", "--data", dir); r.stderr != "" || !strings.Contains(r.stdout, sidA) {
		t.Errorf("second command: stdout %q stderr %q", r.stdout, r.stderr)
	}
}

func TestStoreMigrateCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		dir        func(t *testing.T) string
		wantCode   int
		wantStdout string
		wantStderr string
		migrated   bool
	}{
		{"old directory", oldDataDir, exitOK, "Migrated the embedded store", "", true},
		{"already migrated", func(t *testing.T) string {
			dir := oldDataDir(t)
			mustCLI(t, exitOK, nil, "store", "migrate", "--data", dir)
			return dir
		}, exitOK, "Nothing to migrate", "", true},
		{"empty directory", func(t *testing.T) string { return t.TempDir() }, exitFailure, "", "there is no store", false},
		{"both stores", func(t *testing.T) string {
			dir := oldDataDir(t)
			if err := os.WriteFile(filepath.Join(dir, storeFileName), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return dir
		}, exitFailure, "", "will not merge", false},
		{"old samlflex still running", func(t *testing.T) string {
			dir := oldDataDir(t)
			st, err := boltstore.Open(filepath.Join(dir, boltFileName), boltstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return dir
		}, exitFailure, "", "nothing was changed: data directory is in use", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := tc.dir(t)
			r := mustCLI(t, tc.wantCode, nil, "store", "migrate", "--data", dir)
			if !strings.Contains(r.stdout, tc.wantStdout) || !strings.Contains(r.stderr, tc.wantStderr) {
				t.Errorf("stdout %q (want %q), stderr %q (want %q)", r.stdout, tc.wantStdout, r.stderr, tc.wantStderr)
			}
			if tc.migrated {
				assertMigrated(t, dir)
			} else if _, err := os.Lstat(filepath.Join(dir, boltFileName+".migrated")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("failed migration renamed the old file: %v", err)
			}
		})
	}
}

// TestOldStoreNextToNewIsIgnored: a samlflex.db that reappears next to the
// SQLite store (restored from a backup) is not merged, and the admin is
// told.
func TestOldStoreNextToNewIsIgnored(t *testing.T) {
	t.Parallel()
	dir := oldDataDir(t)
	mustCLI(t, exitOK, nil, "store", "migrate", "--data", dir)
	if err := os.Rename(filepath.Join(dir, boltFileName+".migrated"), filepath.Join(dir, boltFileName)); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, exitOK, nil, "account", "delete", "--data", dir, "--account-sid", sidA)
	r := mustCLI(t, exitOK, nil, "account", "list", "--data", dir)
	if strings.Contains(r.stdout, sidA) {
		t.Errorf("the old file's account came back:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "is an old (bbolt) store and is not read") {
		t.Errorf("stderr: %q", r.stderr)
	}
}

// TestServeRefusesDemoAccountAddedWhileServing: the demo account saved into
// serve's directory while it runs is still never served (the start-up
// check cannot see it).
func TestServeRefusesDemoAccountAddedWhileServing(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	cert, _ := testCert(t, t.TempDir(), "idp.crt")
	s, out := startServer(t, nil, "serve", "--addr", "127.0.0.1:0", "--data", data)
	mustCLI(t, exitOK, nil, fullPut(data, demoAccountSID, cert)...)
	b := newBrowser(t)
	for _, path := range []string{"/saml2/login", "/saml2/metadata"} {
		resp, _ := b.get(s.BaseURL + "/v1/Accounts/" + demoAccountSID + path)
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("X-Samlflex-Error") != "unknown_account" {
			t.Errorf("%s of the demo account during serve: %d %s", path, resp.StatusCode, resp.Header.Get("X-Samlflex-Error"))
		}
	}
	if !strings.Contains(out.String(), `"msg":"demo_account_refused"`) {
		t.Errorf("serve's log does not say why:\n%s", out.String())
	}
	// Another account in the same store is served.
	mustCLI(t, exitOK, nil, fullPut(data, sidA, cert)...)
	waitForLogin(t, b, s.BaseURL+"/v1/Accounts/"+sidA+"/saml2/login", "https://acme.my.salesforce.com/")
}

// TestLogStoreState: serve and dev say how used IDs are written, and warn
// once when the start found that the machine went down with the data file
// open (here: a handle registered by another boot).
func TestLogStoreState(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), storeFileName)
	boot := func(id string) sqlitestore.Options {
		return sqlitestore.Options{BootID: func() (string, error) { return id, nil }}
	}
	before, err := sqlitestore.Open(path, boot("before the crash"))
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	for _, tc := range []struct {
		opts  sqlitestore.Options
		want  []string
		avoid string
	}{
		{boot("after the crash"), []string{`"msg":"store_opened"`, `"replay_epoch":1`, `"login_used_id_writes":"deferred`, `"msg":"store_crash_detected"`}, ""},
		{boot("after the crash"), []string{`"msg":"store_opened"`, `"replay_epoch":1`}, "store_crash_detected"},
		{sqlitestore.Options{BootID: func() (string, error) { return "", errors.New("no /proc") }},
			[]string{`"login_used_id_writes":"fsynced`}, ""},
	} {
		st, err := sqlitestore.Open(path, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		logStoreState(t.Context(), slog.New(slog.NewJSONHandler(&buf, nil)), st)
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("log lacks %s:\n%s", w, buf.String())
			}
		}
		if tc.avoid != "" && strings.Contains(buf.String(), tc.avoid) {
			t.Errorf("log has %s:\n%s", tc.avoid, buf.String())
		}
	}
}
