// Package store owns the persistence interfaces of samlflex: account
// settings and one-time assertion IDs. Backends (sqlitestore, dynamostore;
// boltstore, kept to migrate old data directories)
// live in sub-packages and must pass storetest.Run. Must not import any AWS
// SDK (only dynamostore does) nor net/http.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Sentinel errors. Backends translate their own errors into these (or wrap
// ErrUnavailable) so that no SDK error type leaves a backend.
var (
	// ErrNotFound: no such account.
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists: the assertion ID was already used and has not expired.
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrVersionConflict: Put's expected version is not the stored one.
	ErrVersionConflict = errors.New("store: version conflict")
	// ErrUnavailable: the backend could not be reached (after retries).
	ErrUnavailable = errors.New("store: unavailable")
)

// Accounts keeps one samlflex.Account per Account SID.
type Accounts interface {
	// Get returns the account with its stored Version.
	Get(ctx context.Context, sid string) (samlflex.Account, error)
	// Put stores a. expectVersion 0 means "create: must not exist";
	// otherwise the stored Version must equal expectVersion. It returns the
	// new version (expectVersion+1) and sets UpdatedAt from now.
	Put(ctx context.Context, a samlflex.Account, expectVersion int64, now time.Time) (int64, error)
	// List returns all accounts sorted by Account SID.
	List(ctx context.Context) ([]samlflex.Account, error)
	// Delete removes the account; ErrNotFound if absent.
	Delete(ctx context.Context, sid string) error
}

// Assertions enforces one-time use of assertion IDs.
type Assertions interface {
	// MarkUsed records key as used until expiresAt. It returns
	// ErrAlreadyExists if key is already recorded and its expiry is after
	// now. An expired record counts as absent (DynamoDB's TTL deletes lazily
	// and emulators do not delete at all) and is overwritten. The write is
	// conditional and atomic: of concurrent calls with one key, exactly one
	// succeeds.
	MarkUsed(ctx context.Context, key string, expiresAt, now time.Time) error
	// MarkUsedDeferred is MarkUsed, except that it may return before the
	// record would survive a crash of the machine (it survives one of the
	// process). When such records may have been lost, ReplayEpoch grows.
	// A backend without that distinction makes it MarkUsed.
	MarkUsedDeferred(ctx context.Context, key string, expiresAt, now time.Time) error
	// ReplayEpoch grows each time records written by MarkUsedDeferred may
	// have been lost (sqlitestore: the machine went down while the file
	// was open); 0 for a store that never loses them. Whoever relies on a
	// deferred record must be able to tell that it was written in the
	// current epoch (the ACS stamps its login cookies with it).
	ReplayEpoch() int64
}

// Store is what the HTTP layer and the CLI need.
type Store interface {
	Accounts
	Assertions
	Close() error
}
