package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/storeutil"
)

// MarkUsed implements store.Assertions. The expiry check and the write
// happen in one Update transaction, so of concurrent calls with one key
// exactly one sees the key absent.
func (s *Store) MarkUsed(ctx context.Context, key string, expiresAt, now time.Time) error {
	if key == "" {
		return errors.New("boltstore: mark used: empty key")
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	k := []byte(key)
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		b := tx.Bucket(bucketAssertions)
		if cur := b.Get(k); cur != nil {
			exp, err := decodeExpiry(cur)
			if err != nil {
				// Fail closed: an unreadable record might be a used ID.
				return fmt.Errorf("boltstore: assertion %q: %w", key, err)
			}
			if exp > now.UnixNano() {
				return store.ErrAlreadyExists
			}
		}
		return b.Put(k, encodeExpiry(expiresAt))
	})
}

// Sweep deletes the assertion records that have expired at now and returns
// how many it deleted. MarkUsed already ignores expired records; Sweep only
// keeps the file from growing.
func (s *Store) Sweep(now time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAssertions)
		// Collect first, delete after: deleting through a cursor while
		// iterating can skip the key that follows a deleted one.
		var expired [][]byte
		err := b.ForEach(func(k, v []byte) error {
			exp, err := decodeExpiry(v)
			if err == nil && exp <= now.UnixNano() {
				// k stays valid until the transaction ends, which
				// covers the deletes below.
				expired = append(expired, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range expired {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(expired)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("boltstore: sweep: %w", err)
	}
	return n, nil
}

// startSweeper runs Sweep on every tick until Close. stopTick releases the
// ticker. Tests pass their own tick channel and set afterSweep first.
func (s *Store) startSweeper(tick <-chan time.Time, stopTick func()) {
	s.bg.Start(tick, stopTick, s.Sweep, s.afterSweep)
}

// encodeExpiry stores Unix nanoseconds, big-endian so that the bytes sort
// like the times (useful when inspecting the file with `bbolt`).
func encodeExpiry(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(storeutil.ExpiryNanos(t)))
}

func decodeExpiry(v []byte) (int64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("corrupt expiry (%d bytes, want 8)", len(v))
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

// MarkUsedDeferred implements store.Assertions: MarkUsed, whose record is
// durable when it returns.
func (s *Store) MarkUsedDeferred(ctx context.Context, key string, expiresAt, now time.Time) error {
	return s.MarkUsed(ctx, key, expiresAt, now)
}

// ReplayEpoch implements store.Assertions: no record is ever lost.
func (s *Store) ReplayEpoch() int64 { return 0 }
