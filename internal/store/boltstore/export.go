package boltstore

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ForEachAssertion calls fn with every assertion record in the file,
// expired or not, in key order, inside one read transaction (a consistent
// snapshot). It exists for the migration to SQLite, which must carry the
// unexpired records over so that a replay stays a replay across the
// upgrade. A record whose expiry cannot be read is an error, not skipped:
// skipping it could forget a used ID.
func (s *Store) ForEachAssertion(ctx context.Context, fn func(key string, expiresAt time.Time) error) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAssertions).ForEach(func(k, v []byte) error {
			exp, err := decodeExpiry(v)
			if err != nil {
				return fmt.Errorf("boltstore: assertion %q: %w", k, err)
			}
			// string(k) copies: k points into the mmap.
			return fn(string(k), time.Unix(0, exp).UTC())
		})
	})
}
