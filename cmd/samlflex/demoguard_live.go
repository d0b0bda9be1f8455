package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// demoFreeStore is the store serve hands to the HTTP handler: it answers
// "no such account" for a demo account (see demoReason). refuseDemoAccounts
// checks at start-up, which was enough while serve held the store alone;
// now that `samlflex account put` writes to it while serve runs, a demo
// account can appear later, and must still never be served.
type demoFreeStore struct {
	store.Store
	logger *slog.Logger
}

// Get implements store.Accounts.
func (s demoFreeStore) Get(ctx context.Context, sid string) (samlflex.Account, error) {
	a, err := s.Store.Get(ctx, sid)
	if err != nil {
		return a, err
	}
	if why := demoReason(a); why != "" {
		s.logger.WarnContext(ctx, "demo_account_refused", "account_sid", sid, "reason", why)
		return samlflex.Account{}, fmt.Errorf("%w: %s is dev's demo account (%s); serve never serves it", store.ErrNotFound, sid, why)
	}
	return a, nil
}
