package filekeys

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/samlflextest"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestOpenGeneratesAndReloads(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state") // Open creates missing dirs
	src := openIn(t, dir, fixedNow)
	path := filepath.Join(dir, FileName)
	if got := mode(t, path); got != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", got)
	}
	set, err := src.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if set.Previous != nil || set.Current == nil || set.Next == nil {
		t.Fatal("generated set must have current and next, and no previous")
	}
	for _, p := range []*keys.Pair{set.Current, set.Next} {
		if k, ok := p.Signer.(*rsa.PrivateKey); !ok || k.N.BitLen() != 2048 {
			t.Errorf("%s: want an RSA 2048 key, got %T", p.Kid, p.Signer)
		}
		if want := testNow.Add(2 * 365 * 24 * time.Hour); !p.Certificate.NotAfter.Equal(want) {
			t.Errorf("%s: NotAfter = %s, want %s", p.Kid, p.Certificate.NotAfter, want)
		}
		if p.Token == nil {
			t.Errorf("%s: no session-token key", p.Kid)
		}
	}

	again := openIn(t, dir, fixedNow)
	set2, err := again.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if set2.Current.Kid != set.Current.Kid || set2.Next.Kid != set.Next.Kid ||
		set2.Current.Token == nil || set2.Current.Token.Kid != set.Current.Token.Kid {
		t.Error("reopening the directory produced different keys")
	}
}

func TestOpenTightensPermissions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Open(dir, fixedNow, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	logger, logs := samlflextest.NewLogger(nil)
	if _, err := Open(dir, fixedNow, logger); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, path); got != 0o600 {
		t.Errorf("mode after Open = %04o, want 0600", got)
	}
	var ev map[string]any
	if err := json.Unmarshal(logs.Bytes(), &ev); err != nil {
		t.Fatalf("want one JSON log line, got %q", logs.String())
	}
	if ev["level"] != "WARN" || ev["msg"] != "sp_keys_file_permissions" || ev["mode"] != "0644" {
		t.Errorf("log event = %v", ev)
	}
}

func TestOpenRefusesCorruptFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	corrupt := []byte(`{"current": null}`)
	if err := os.WriteFile(path, corrupt, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, fixedNow, nil)
	if !errors.Is(err, keys.ErrInvalidSet) {
		t.Fatalf("Open = %v, want ErrInvalidSet", err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, corrupt) {
		t.Error("a corrupt key file was overwritten")
	}
}

// openIn opens a Source on dir, failing the test on error.
func openIn(t *testing.T, dir string, now func() time.Time) *Source {
	t.Helper()
	src, err := Open(dir, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestRotate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := openIn(t, dir, fixedNow)
	ctx := context.Background()
	before, _ := src.Keys(ctx)
	// A second process serving the same directory must notice the rotation.
	server := openIn(t, dir, fixedNow)

	after, err := src.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Previous.Kid != before.Current.Kid || after.Current.Kid != before.Next.Kid {
		t.Error("Rotate did not shift current to previous and next to current")
	}
	if after.Next == nil || after.Next.Kid == before.Next.Kid || after.Next.Kid == before.Current.Kid {
		t.Error("Rotate did not create a new next key")
	}
	if after.Current.Token.Kid != before.Next.Token.Kid || after.Previous.Token.Kid != before.Current.Token.Kid ||
		after.Next.Token == nil || after.Next.Token.Kid == before.Next.Token.Kid {
		t.Error("the session-token keys did not rotate with their pairs")
	}
	if got := mode(t, filepath.Join(dir, FileName)); got != 0o600 {
		t.Errorf("mode after Rotate = %04o, want 0600", got)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only %s (temporary files left behind?)", len(entries), FileName)
	}

	served, err := server.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if served.Current.Kid != after.Current.Kid || served.Next.Kid != after.Next.Kid {
		t.Error("another Source on the same file did not pick up the rotation")
	}
	reopened := openIn(t, dir, fixedNow)
	got, _ := reopened.Keys(ctx)
	if got.Previous.Kid != after.Previous.Kid || got.Current.Kid != after.Current.Kid || got.Next.Kid != after.Next.Kid {
		t.Error("the rotated set was not persisted")
	}
}

func TestKeysKeepsServingWhenFileBreaks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	logger, logs := samlflextest.NewLogger(nil)
	src, err := Open(dir, fixedNow, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want, _ := src.Keys(ctx)
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("{half a fi"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := src.Keys(ctx)
	if err != nil || got.Current.Kid != want.Current.Kid {
		t.Fatalf("Keys = %v, %v; want the set loaded before", got, err)
	}
	if !strings.Contains(logs.String(), "sp_keys_reload_failed") {
		t.Error("a failed reload was not logged")
	}
}

func TestWriteAtomic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		failRename  bool
		wantContent string
	}{
		{"success replaces the file", false, "new content"},
		{"failure before rename keeps the old file", true, "old content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			target := filepath.Join(dir, FileName)
			if err := os.WriteFile(target, []byte("old content"), 0o600); err != nil {
				t.Fatal(err)
			}
			errBoom := errors.New("boom")
			err := writeAtomic(dir, FileName, []byte("new content"), func(tmp string) error {
				// At the last moment before the rename, the temporary file
				// is complete and private, and the target is untouched.
				if filepath.Dir(tmp) != dir {
					t.Errorf("temporary file %s is not in the target directory", tmp)
				}
				if b, _ := os.ReadFile(tmp); string(b) != "new content" {
					t.Errorf("temporary file holds %q", b)
				}
				if got := mode(t, tmp); got != 0o600 {
					t.Errorf("temporary file mode = %04o, want 0600", got)
				}
				if b, _ := os.ReadFile(target); string(b) != "old content" {
					t.Errorf("target changed before the rename: %q", b)
				}
				if tt.failRename {
					return errBoom
				}
				return nil
			})
			if tt.failRename != errors.Is(err, errBoom) {
				t.Fatalf("writeAtomic = %v", err)
			}
			if b, _ := os.ReadFile(target); string(b) != tt.wantContent {
				t.Errorf("target holds %q, want %q", b, tt.wantContent)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("%d entries in the directory, want 1 (temporary file not removed)", len(entries))
			}
		})
	}
}
