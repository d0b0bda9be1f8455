package filekeys

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/session"
)

// published reports whether kid is in the JWKS built from src (what
// /.well-known/jwks.json serves) and among the keys that open login
// cookies (ByKid).
func published(t *testing.T, src *Source, kid string) (inJWKS, opensCookies bool) {
	t.Helper()
	set, err := src.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	body, err := session.JWKS(set)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range doc.Keys {
		inJWKS = inJWKS || k.Kid == kid
	}
	return inJWKS, set.ByKid(kid) != nil
}

// TestPreviousKeyRetires: after a rotation the old current key keeps
// verifying for the longest token lifetime plus the margin, then leaves
// the JWKS and the login-cookie keys, while the file still holds it.
func TestPreviousKeyRetires(t *testing.T) {
	t.Parallel()
	clk := samlflextest.NewClock(testNow)
	dir := t.TempDir()
	src := openIn(t, dir, clk.Now)
	before, _ := src.Keys(context.Background())
	old := before.Current.Kid
	rotatedAt := testNow.Add(90 * 24 * time.Hour)
	clk.Set(rotatedAt)
	if _, err := src.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	bound := rotatedAt.Add(keys.MaxTokenLifetime + keys.DefaultRetireMargin)
	for _, tt := range []struct {
		name string
		at   time.Time
		want bool
	}{
		{"right after the rotation", rotatedAt, true},
		{"just before the bound", bound.Add(-time.Second), true},
		{"at the bound", bound, false},
		{"a week later", rotatedAt.Add(7 * 24 * time.Hour), false},
	} {
		clk.Set(tt.at)
		jwks, cookies := published(t, src, old)
		if jwks != tt.want || cookies != tt.want {
			t.Errorf("%s: in JWKS=%v, opens cookies=%v, want %v", tt.name, jwks, cookies, tt.want)
		}
	}
	// Retirement is a view: the stored set still names the key as
	// previous until the next rotation (or a revoke) drops it.
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := keys.ParseSet(b)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Previous == nil || stored.Previous.Kid != old || !stored.Current.CurrentSince.Equal(rotatedAt) {
		t.Error("the file does not record the rotation")
	}
}

// TestEarlierFormatFileLoads: a key file written before current_since
// existed loads, and its previous key is kept (the rotation time is not
// known), as before.
func TestEarlierFormatFileLoads(t *testing.T) {
	t.Parallel()
	clk := samlflextest.NewClock(testNow)
	dir := t.TempDir()
	src := openIn(t, dir, clk.Now)
	rotated, err := src.Rotate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, slot := range m {
		delete(slot, "current_since")
	}
	b, _ = json.Marshal(m)
	if strings.Contains(string(b), "current_since") {
		t.Fatal("setup")
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	clk.Set(testNow.Add(60 * 24 * time.Hour))
	legacy, err := Open(dir, clk.Now, nil)
	if err != nil {
		t.Fatalf("earlier-format key file: %v", err)
	}
	if jwks, cookies := published(t, legacy, rotated.Previous.Kid); !jwks || !cookies {
		t.Errorf("previous key of an earlier-format file: in JWKS=%v, opens cookies=%v, want both", jwks, cookies)
	}
}
