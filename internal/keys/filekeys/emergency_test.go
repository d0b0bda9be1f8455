package filekeys

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/samlflextest"
)

// TestRotateNow: a new current key at once; a server process reading the
// same file sees it at its next request; the old current key retires on
// schedule or, with retirePrevious, at once.
func TestRotateNow(t *testing.T) {
	t.Parallel()
	for _, retire := range []bool{false, true} {
		clk := samlflextest.NewClock(testNow)
		dir := t.TempDir()
		admin := openIn(t, dir, clk.Now)
		server := openIn(t, dir, clk.Now)
		before, _ := server.Keys(context.Background())
		clk.Set(testNow.Add(time.Hour))
		after, err := admin.RotateNow(context.Background(), retire)
		if err != nil {
			t.Fatal(err)
		}
		if after.Current.Kid == before.Current.Kid || after.Current.Kid == before.Next.Kid || after.Next.Kid == before.Next.Kid {
			t.Fatal("RotateNow reused a key")
		}
		served, _ := server.Keys(context.Background())
		if served.Current.Kid != after.Current.Kid {
			t.Errorf("retire=%v: the serving process signs with %s, want the new key %s", retire, served.Current.Kid, after.Current.Kid)
		}
		jwks, cookies := published(t, server, before.Current.Kid)
		if jwks != !retire || cookies != !retire {
			t.Errorf("retire=%v: old current in JWKS=%v, opens cookies=%v", retire, jwks, cookies)
		}
		if jwks, _ := published(t, server, before.Next.Kid); jwks {
			t.Errorf("retire=%v: the old next key is still published", retire)
		}
		clk.Set(testNow.Add(time.Hour + keys.MaxTokenLifetime + keys.DefaultRetireMargin))
		if jwks, cookies := published(t, server, before.Current.Kid); jwks || cookies {
			t.Errorf("retire=%v: old current key not retired on schedule", retire)
		}
	}
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := openIn(t, dir, fixedNow)
	ctx := context.Background()
	rotated, err := src.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	server := openIn(t, dir, fixedNow)
	if _, err := src.Revoke(ctx, rotated.Current.Kid); !errors.Is(err, keys.ErrRevokeCurrent) {
		t.Errorf("revoking the current key: %v, want ErrRevokeCurrent", err)
	}
	if _, err := src.Revoke(ctx, "not-a-kid"); !errors.Is(err, keys.ErrUnknownKid) {
		t.Errorf("revoking an unknown kid: %v, want ErrUnknownKid", err)
	}
	if jwks, _ := published(t, server, rotated.Previous.Kid); !jwks {
		t.Fatal("setup: previous key not published")
	}
	after, err := src.Revoke(ctx, rotated.Previous.Kid)
	if err != nil {
		t.Fatal(err)
	}
	if after.Previous != nil {
		t.Error("previous key still stored")
	}
	if jwks, cookies := published(t, server, rotated.Previous.Kid); jwks || cookies {
		t.Errorf("revoked key: in JWKS=%v, opens cookies=%v", jwks, cookies)
	}
	after, err = src.Revoke(ctx, rotated.Next.Kid)
	if err != nil {
		t.Fatal(err)
	}
	if after.Next == nil || after.Next.Kid == rotated.Next.Kid {
		t.Error("revoking the next key did not publish a new one")
	}
	stored, err := server.Stored(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stored.ByKid(rotated.Next.Kid) != nil || stored.Current.Kid != rotated.Current.Kid {
		t.Error("the file does not hold the revocations")
	}
}

func TestOpenExistingRefusesMissingFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "typo")
	if _, err := OpenExisting(dir, fixedNow, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenExisting = %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Error("OpenExisting created the directory")
	}
}
