package storetest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

func testAccounts(t *testing.T, open func(*testing.T) store.Store) {
	t.Run("GetMissing", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		_, err := s.Get(t.Context(), sid(1))
		checkErr(t, "Get", err, store.ErrNotFound)
	})

	t.Run("CreateSetsVersionAndUTCUpdatedAt", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		// now in another zone: the store must keep the instant and return
		// it in UTC, so that what admins see does not depend on where the
		// Lambda or the laptop ran.
		now := t0.In(time.FixedZone("PST", -8*60*60))
		v, err := s.Put(t.Context(), minimalAccount(sid(1)), 0, now)
		checkErr(t, "Put", err, nil)
		if v != 1 {
			t.Fatalf("Put returned version %d, want 1", v)
		}
		got, err := s.Get(t.Context(), sid(1))
		checkErr(t, "Get", err, nil)
		if got.Version != 1 {
			t.Errorf("Version = %d, want 1", got.Version)
		}
		if !got.UpdatedAt.Equal(t0) {
			t.Errorf("UpdatedAt = %v, want %v", got.UpdatedAt, t0)
		}
		if got.UpdatedAt.Location() != time.UTC {
			t.Errorf("UpdatedAt location = %v, want UTC", got.UpdatedAt.Location())
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name string
			in   samlflex.Account
		}{
			{"EveryField", fullAccount(sid(7))},
			{"ZeroOptionals", minimalAccount(sid(8))},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				s := open(t)
				if _, err := s.Put(t.Context(), tc.in, 0, t0); err != nil {
					t.Fatalf("Put: %v", err)
				}
				got, err := s.Get(t.Context(), tc.in.AccountSID)
				checkErr(t, "Get", err, nil)
				want := tc.in
				want.Version = 1
				want.UpdatedAt = t0
				assertAccount(t, got, want)
			})
		}
	})

	t.Run("Versions", func(t *testing.T) {
		t.Parallel()
		// Each row is a fresh store and a sequence of Puts; after the
		// sequence, the stored account must be the one named by wantName
		// (or absent), which proves a rejected Put wrote nothing.
		type put struct {
			name          string // FriendlyName, identifies the write
			expectVersion int64
			wantVersion   int64
			wantErr       error
		}
		for _, tc := range []struct {
			name        string
			puts        []put
			wantName    string // "" means the account must not exist
			wantVersion int64
		}{
			{
				name:        "CreateTwice",
				puts:        []put{{"first", 0, 1, nil}, {"second", 0, 0, store.ErrVersionConflict}},
				wantName:    "first",
				wantVersion: 1,
			},
			{
				name:        "Update",
				puts:        []put{{"first", 0, 1, nil}, {"second", 1, 2, nil}, {"third", 2, 3, nil}},
				wantName:    "third",
				wantVersion: 3,
			},
			{
				name:        "StaleVersion",
				puts:        []put{{"first", 0, 1, nil}, {"second", 1, 2, nil}, {"stale", 1, 0, store.ErrVersionConflict}},
				wantName:    "second",
				wantVersion: 2,
			},
			{
				name:        "FutureVersion",
				puts:        []put{{"first", 0, 1, nil}, {"future", 5, 0, store.ErrVersionConflict}},
				wantName:    "first",
				wantVersion: 1,
			},
			{
				// An update of a missing account is a conflict (someone
				// deleted it meanwhile), and must not create it.
				name: "UpdateMissing",
				puts: []put{{"ghost", 1, 0, store.ErrVersionConflict}},
			},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				s := open(t)
				for i, p := range tc.puts {
					a := minimalAccount(sid(1))
					a.FriendlyName = p.name
					now := t0.Add(time.Duration(i) * time.Second)
					v, err := s.Put(t.Context(), a, p.expectVersion, now)
					checkErr(t, "Put "+p.name, err, p.wantErr)
					if p.wantErr == nil && v != p.wantVersion {
						t.Fatalf("Put %s returned version %d, want %d", p.name, v, p.wantVersion)
					}
				}
				got, err := s.Get(t.Context(), sid(1))
				if tc.wantName == "" {
					checkErr(t, "Get", err, store.ErrNotFound)
					return
				}
				checkErr(t, "Get", err, nil)
				if got.FriendlyName != tc.wantName || got.Version != tc.wantVersion {
					t.Errorf("stored %q v%d, want %q v%d", got.FriendlyName, got.Version, tc.wantName, tc.wantVersion)
				}
			})
		}
	})

	t.Run("UpdateSetsUpdatedAt", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		t1 := t0.Add(36*time.Hour + time.Nanosecond)
		if _, err := s.Put(t.Context(), minimalAccount(sid(1)), 0, t0); err != nil {
			t.Fatalf("Put: %v", err)
		}
		if _, err := s.Put(t.Context(), fullAccount(sid(1)), 1, t1); err != nil {
			t.Fatalf("Put: %v", err)
		}
		got, err := s.Get(t.Context(), sid(1))
		checkErr(t, "Get", err, nil)
		want := fullAccount(sid(1))
		want.Version = 2
		want.UpdatedAt = t1
		assertAccount(t, got, want)
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		got, err := s.List(t.Context())
		checkErr(t, "List (empty)", err, nil)
		if len(got) != 0 {
			t.Fatalf("List of an empty store returned %d accounts", len(got))
		}
		// Put out of order: backends whose natural order is insertion or
		// hash order (DynamoDB Scan) must sort.
		want := map[string]samlflex.Account{}
		for i, n := range []int{5, 1, 9, 3, 0xabc, 2} {
			a := fullAccount(sid(n))
			now := t0.Add(time.Duration(i) * time.Second)
			if _, err := s.Put(t.Context(), a, 0, now); err != nil {
				t.Fatalf("Put: %v", err)
			}
			a.Version, a.UpdatedAt = 1, now
			want[a.AccountSID] = a
		}
		// One account at version 2, to see that List reports versions.
		a := fullAccount(sid(9))
		if _, err := s.Put(t.Context(), a, 1, t0.Add(time.Hour)); err != nil {
			t.Fatalf("Put: %v", err)
		}
		a.Version, a.UpdatedAt = 2, t0.Add(time.Hour)
		want[a.AccountSID] = a

		got, err = s.List(t.Context())
		checkErr(t, "List", err, nil)
		var sids []string
		for _, a := range got {
			sids = append(sids, a.AccountSID)
			assertAccount(t, a, want[a.AccountSID])
		}
		wantSIDs := []string{sid(1), sid(2), sid(3), sid(5), sid(9), sid(0xabc)}
		if !slices.Equal(sids, wantSIDs) {
			t.Fatalf("List SIDs = %v, want %v", sids, wantSIDs)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for _, n := range []int{1, 2} {
			if _, err := s.Put(t.Context(), minimalAccount(sid(n)), 0, t0); err != nil {
				t.Fatalf("Put: %v", err)
			}
		}
		checkErr(t, "Delete", s.Delete(t.Context(), sid(1)), nil)
		_, err := s.Get(t.Context(), sid(1))
		checkErr(t, "Get after Delete", err, store.ErrNotFound)
		checkErr(t, "Delete again", s.Delete(t.Context(), sid(1)), store.ErrNotFound)
		list, err := s.List(t.Context())
		checkErr(t, "List", err, nil)
		if len(list) != 1 || list[0].AccountSID != sid(2) {
			t.Fatalf("List after Delete = %v, want only %s", list, sid(2))
		}
		// A deleted account can be created again, from version 1.
		v, err := s.Put(t.Context(), minimalAccount(sid(1)), 0, t0)
		checkErr(t, "re-create", err, nil)
		if v != 1 {
			t.Fatalf("re-create returned version %d, want 1", v)
		}
	})

	t.Run("DeleteMissing", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		checkErr(t, "Delete", s.Delete(t.Context(), sid(1)), store.ErrNotFound)
	})
}

// assertAccount compares every field; UpdatedAt with Equal because the
// location pointer and monotonic reading are not part of the value.
func assertAccount(t *testing.T, got, want samlflex.Account) {
	t.Helper()
	if !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s: UpdatedAt = %v, want %v", want.AccountSID, got.UpdatedAt, want.UpdatedAt)
	}
	got.UpdatedAt, want.UpdatedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: account differs\n got: %+v\nwant: %+v", want.AccountSID, describe(got), describe(want))
	}
}

// describe expands the pointers so that a failure message shows values.
func describe(a samlflex.Account) map[string]any {
	m := map[string]any{"account": a}
	if a.AllowIdPInitiated != nil {
		m["allow_idp_initiated"] = *a.AllowIdPInitiated
	}
	if a.Flex != nil {
		m["flex"] = *a.Flex
	}
	return m
}
