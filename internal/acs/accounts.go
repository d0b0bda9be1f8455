package acs

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"time"

	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// accountCache keeps accounts with their parsed verifier for a short TTL,
// so that a warm Lambda does at most one store read per TTL per account
// and parses certificates once. TTL 0 reads every time (serve: a change
// applies at the next request), and still builds a verifier (parses the
// certificates) only when the account read differs from the cached one.
type accountCache struct {
	accounts store.Accounts
	baseURL  string
	ttl      time.Duration
	now      func() time.Time

	mu      sync.Mutex
	entries map[string]accountEntry
}

type accountEntry struct {
	acct     *samlflex.Account
	verifier *samlflex.Verifier
	fetched  time.Time
}

func newAccountCache(a store.Accounts, baseURL string, ttl time.Duration, now func() time.Time) *accountCache {
	return &accountCache{accounts: a, baseURL: baseURL, ttl: ttl, now: now, entries: map[string]accountEntry{}}
}

// get returns the account and a verifier for it, or a *samlflex.Error:
// unknown_account, store_unavailable or invalid_config.
func (c *accountCache) get(ctx context.Context, sid string) (*samlflex.Account, *samlflex.Verifier, error) {
	if !samlflex.ValidAccountSID(sid) {
		return nil, nil, samlflex.Errorf(samlflex.CodeUnknownAccount, "malformed account SID in path")
	}
	now := c.now()
	if c.ttl > 0 {
		c.mu.Lock()
		e, ok := c.entries[sid]
		c.mu.Unlock()
		if ok && now.Sub(e.fetched) < c.ttl {
			return e.acct, e.verifier, nil
		}
	}
	a, err := c.accounts.Get(ctx, sid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil, samlflex.Errorf(samlflex.CodeUnknownAccount, "account %s not found", sid)
	case err != nil:
		return nil, nil, samlflex.Errorf(samlflex.CodeStoreUnavailable, "reading account %s: %v", sid, err)
	}
	c.mu.Lock()
	e, ok := c.entries[sid]
	c.mu.Unlock()
	// The whole account is compared, not its version: a deleted and
	// re-created account starts again at version 1.
	if ok && reflect.DeepEqual(*e.acct, a) {
		c.mu.Lock()
		c.entries[sid] = accountEntry{acct: e.acct, verifier: e.verifier, fetched: now}
		c.mu.Unlock()
		return e.acct, e.verifier, nil
	}
	v, err := samlflex.NewVerifier(samlflex.VerifierConfig{Account: a, BaseURL: c.baseURL, Now: c.now})
	if err != nil {
		return nil, nil, samlflex.Errorf(samlflex.CodeInvalidConfig, "account %s: %v", sid, err)
	}
	c.mu.Lock()
	c.entries[sid] = accountEntry{acct: &a, verifier: v, fetched: now}
	c.mu.Unlock()
	return &a, v, nil
}
