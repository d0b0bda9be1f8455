package sqlitestore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

func TestImport(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{})
	defer s.Close()
	updated := t0.Add(-48 * time.Hour).In(time.FixedZone("X", 3600))
	accts := []samlflex.Account{
		{AccountSID: "AC2", FriendlyName: "two", Version: 7, UpdatedAt: updated},
		{AccountSID: "AC1", FriendlyName: "one", Version: 1, UpdatedAt: updated},
	}
	recs := []Record{{"AC1#_a", t0.Add(time.Hour)}, {"AC1#_b", t0.Add(2 * time.Hour)}}
	if err := s.Import(t.Context(), accts, recs); err != nil {
		t.Fatalf("Import: %v", err)
	}
	got, err := s.Get(t.Context(), "AC2")
	if err != nil {
		t.Fatal(err)
	}
	// Version and UpdatedAt are kept, so an admin's --expect-version 7
	// still matches after the migration.
	if got.Version != 7 || !got.UpdatedAt.Equal(updated) || got.FriendlyName != "two" {
		t.Errorf("imported AC2 = %+v", got)
	}
	if _, err := s.Put(t.Context(), got, 7, t0); err != nil {
		t.Errorf("Put with the imported version: %v", err)
	}
	for _, r := range recs {
		if err := s.MarkUsed(t.Context(), r.Key, t0.Add(time.Hour), t0); !errors.Is(err, store.ErrAlreadyExists) {
			t.Errorf("MarkUsed(%s) after import: %v, want ErrAlreadyExists", r.Key, err)
		}
	}
	// The imported expiry is the one that counts.
	if err := s.MarkUsed(t.Context(), "AC1#_a", t0.Add(3*time.Hour), t0.Add(time.Hour)); err != nil {
		t.Errorf("MarkUsed at the imported expiry: %v", err)
	}
}

func TestImportRejects(t *testing.T) {
	t.Parallel()
	good := samlflex.Account{AccountSID: "AC1", Version: 1}
	for _, tc := range []struct {
		name    string
		before  func(*testing.T, *Store)
		accts   []samlflex.Account
		recs    []Record
		wantErr error
	}{
		{name: "StoreHasAccount", before: func(t *testing.T, s *Store) {
			if _, err := s.Put(t.Context(), samlflex.Account{AccountSID: "AC9"}, 0, t0); err != nil {
				t.Fatal(err)
			}
		}, accts: []samlflex.Account{good}, wantErr: ErrNotEmpty},
		{name: "StoreHasAssertion", before: func(t *testing.T, s *Store) {
			if err := s.MarkUsed(t.Context(), "k", t0.Add(time.Hour), t0); err != nil {
				t.Fatal(err)
			}
		}, accts: []samlflex.Account{good}, wantErr: ErrNotEmpty},
		{name: "VersionZero", accts: []samlflex.Account{good, {AccountSID: "AC2"}}},
		{name: "EmptySID", accts: []samlflex.Account{good, {Version: 1}}},
		{name: "DuplicateSID", accts: []samlflex.Account{good, good}},
		{name: "EmptyKey", accts: []samlflex.Account{good}, recs: []Record{{"k", t0}, {"", t0}}},
		{name: "DuplicateKey", accts: []samlflex.Account{good}, recs: []Record{{"k", t0}, {"k", t0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _ := open(t, Options{})
			defer s.Close()
			if tc.before != nil {
				tc.before(t, s)
			}
			before, _ := s.List(t.Context())
			err := s.Import(t.Context(), tc.accts, tc.recs)
			if err == nil {
				t.Fatal("Import succeeded")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Import: %v, want %v", err, tc.wantErr)
			}
			// All or nothing: the good account was not imported.
			after, err := s.List(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before) {
				t.Fatalf("a failed Import left %d accounts (had %d)", len(after), len(before))
			}
			if tc.before == nil {
				if err := s.MarkUsed(t.Context(), "k", t0.Add(time.Hour), t0); err != nil {
					t.Fatalf("a failed Import left assertion k: %v", err)
				}
			}
		})
	}
}

func TestImportCanceled(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{})
	defer s.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Import(ctx, []samlflex.Account{{AccountSID: "AC1", Version: 1}}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Import with a cancelled context: %v", err)
	}
}
