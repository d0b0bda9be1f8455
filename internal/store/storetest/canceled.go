package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/store"
)

// testCanceled checks that every method returns an error for a cancelled
// context (the browser went away, or the Lambda deadline passed), that the
// error says so, that it is not mistaken for a result (ErrNotFound would
// read as "unknown account", ErrAlreadyExists as "replay"), and that a
// cancelled write wrote nothing.
func testCanceled(t *testing.T, open func(*testing.T) store.Store) {
	exp := t0.Add(5 * time.Minute)
	for _, tc := range []struct {
		name string
		// call runs the method with a cancelled ctx.
		call func(ctx context.Context, s store.Store) error
		// after checks, with a live ctx, that nothing was written.
		after func(t *testing.T, s store.Store)
	}{
		{
			name: "Get",
			call: func(ctx context.Context, s store.Store) error {
				_, err := s.Get(ctx, sid(1))
				return err
			},
		},
		{
			name: "PutCreate",
			call: func(ctx context.Context, s store.Store) error {
				_, err := s.Put(ctx, minimalAccount(sid(2)), 0, t0)
				return err
			},
			after: func(t *testing.T, s store.Store) {
				_, err := s.Get(t.Context(), sid(2))
				checkErr(t, "Get after cancelled create", err, store.ErrNotFound)
			},
		},
		{
			name: "PutUpdate",
			call: func(ctx context.Context, s store.Store) error {
				a := minimalAccount(sid(1))
				a.FriendlyName = "changed"
				_, err := s.Put(ctx, a, 1, t0)
				return err
			},
			after: func(t *testing.T, s store.Store) {
				got, err := s.Get(t.Context(), sid(1))
				checkErr(t, "Get after cancelled update", err, nil)
				if got.Version != 1 || got.FriendlyName != minimalAccount(sid(1)).FriendlyName {
					t.Fatalf("cancelled update changed the account: %q v%d", got.FriendlyName, got.Version)
				}
			},
		},
		{
			name: "List",
			call: func(ctx context.Context, s store.Store) error {
				_, err := s.List(ctx)
				return err
			},
		},
		{
			name: "Delete",
			call: func(ctx context.Context, s store.Store) error { return s.Delete(ctx, sid(1)) },
			after: func(t *testing.T, s store.Store) {
				_, err := s.Get(t.Context(), sid(1))
				checkErr(t, "Get after cancelled delete", err, nil)
			},
		},
		{
			name: "MarkUsed",
			call: func(ctx context.Context, s store.Store) error {
				return s.MarkUsed(ctx, sid(1)+"#_c", exp, t0)
			},
			after: func(t *testing.T, s store.Store) {
				// Not recorded: the first real use still succeeds.
				checkErr(t, "MarkUsed after cancelled MarkUsed", s.MarkUsed(t.Context(), sid(1)+"#_c", exp, t0), nil)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			if _, err := s.Put(t.Context(), minimalAccount(sid(1)), 0, t0); err != nil {
				t.Fatalf("Put: %v", err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			err := tc.call(ctx, s)
			if err == nil {
				t.Fatal("no error for a cancelled context")
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error %v does not wrap context.Canceled", err)
			}
			for _, sentinel := range []error{store.ErrNotFound, store.ErrAlreadyExists, store.ErrVersionConflict} {
				if errors.Is(err, sentinel) {
					t.Errorf("error %v for a cancelled context wraps %v", err, sentinel)
				}
			}
			if tc.after != nil {
				tc.after(t, s)
			}
		})
	}
}
