package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/storeutil"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Get implements store.Accounts.
func (s *Store) Get(ctx context.Context, sid string) (samlflex.Account, error) {
	if err := ctxErr(ctx); err != nil {
		return samlflex.Account{}, err
	}
	var a samlflex.Account
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAccounts).Get([]byte(sid))
		if v == nil {
			return store.ErrNotFound
		}
		// Unmarshal inside the transaction: v points into the mmap and is
		// only valid until the transaction ends.
		var err error
		a, err = decodeAccount(sid, v)
		return err
	})
	if err != nil {
		return samlflex.Account{}, err
	}
	return a, nil
}

// Put implements store.Accounts. The version check and the write happen in
// one Update transaction, which bbolt runs one at a time.
func (s *Store) Put(ctx context.Context, a samlflex.Account, expectVersion int64, now time.Time) (int64, error) {
	a, val, err := storeutil.EncodeAccount("boltstore", a, expectVersion, now)
	if err != nil {
		return 0, err
	}
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	key := []byte(a.AccountSID)
	err = s.db.Update(func(tx *bolt.Tx) error {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		b := tx.Bucket(bucketAccounts)
		cur := b.Get(key)
		switch {
		case cur == nil && expectVersion != 0:
			// Deleted since the caller read it: same answer as DynamoDB's
			// failed "version = :expected" condition.
			return store.ErrVersionConflict
		case cur != nil && expectVersion == 0:
			return store.ErrVersionConflict
		case cur != nil:
			var stored struct {
				Version int64 `json:"version"`
			}
			if err := json.Unmarshal(cur, &stored); err != nil {
				return fmt.Errorf("boltstore: account %s is corrupt: %w", a.AccountSID, err)
			}
			if stored.Version != expectVersion {
				return store.ErrVersionConflict
			}
		}
		return b.Put(key, val)
	})
	if err != nil {
		return 0, err
	}
	return a.Version, nil
}

// List implements store.Accounts. bbolt keeps keys in byte order, which for
// ASCII SIDs is the sort order List promises.
func (s *Store) List(ctx context.Context) ([]samlflex.Account, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []samlflex.Account
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAccounts).ForEach(func(k, v []byte) error {
			a, err := decodeAccount(string(k), v)
			if err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete implements store.Accounts.
func (s *Store) Delete(ctx context.Context, sid string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		b := tx.Bucket(bucketAccounts)
		if b.Get([]byte(sid)) == nil {
			return store.ErrNotFound
		}
		return b.Delete([]byte(sid))
	})
}

// decodeAccount reads the JSON that Put stored for sid.
func decodeAccount(sid string, body []byte) (samlflex.Account, error) {
	return storeutil.DecodeAccount("boltstore", sid, body)
}
