package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/storeutil"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Get implements store.Accounts.
func (s *Store) Get(ctx context.Context, sid string) (samlflex.Account, error) {
	if err := ctxErr(ctx); err != nil {
		return samlflex.Account{}, err
	}
	var body string
	err := s.getAccount.QueryRowContext(ctx, sid).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		s.decoded.Delete(sid)
		return samlflex.Account{}, store.ErrNotFound
	}
	if err != nil {
		return samlflex.Account{}, s.wrap(ctx, "get "+sid, err)
	}
	// serve reads the account at every login; the JSON is decoded only
	// when it changed since the last read (14 of an account read's 30 us).
	if d, ok := s.decoded.Load(sid); ok && d.(*decodedAccount).body == body {
		return d.(*decodedAccount).acct.Clone(), nil
	}
	a, err := decodeAccount(sid, []byte(body))
	if err != nil {
		return samlflex.Account{}, err
	}
	s.decoded.Store(sid, &decodedAccount{body: body, acct: a.Clone()})
	return a, nil
}

// decodedAccount is an account's stored JSON and what it decodes to.
type decodedAccount struct {
	body string
	acct samlflex.Account
}

// Put implements store.Accounts. Create and update are each one statement
// whose condition (no row / version = expected) is checked by SQLite under
// the write lock, so concurrent writers, in this process or another, cannot
// both succeed.
func (s *Store) Put(ctx context.Context, a samlflex.Account, expectVersion int64, now time.Time) (int64, error) {
	a, body, err := storeutil.EncodeAccount("sqlitestore", a, expectVersion, now)
	if err != nil {
		return 0, err
	}
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	var res sql.Result
	if expectVersion == 0 {
		res, err = s.db.ExecContext(ctx,
			`INSERT INTO accounts (sid, version, body) VALUES (?, ?, ?) ON CONFLICT (sid) DO NOTHING`,
			a.AccountSID, a.Version, string(body))
	} else {
		// A missing row is a conflict too (deleted since the caller read
		// it): the same answer as DynamoDB's failed "version = :expected".
		res, err = s.db.ExecContext(ctx,
			`UPDATE accounts SET version = ?, body = ? WHERE sid = ? AND version = ?`,
			a.Version, string(body), a.AccountSID, expectVersion)
	}
	if err != nil {
		return 0, s.wrap(ctx, "put "+a.AccountSID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.wrap(ctx, "put "+a.AccountSID, err)
	}
	if n == 0 {
		return 0, store.ErrVersionConflict
	}
	return a.Version, nil
}

// List implements store.Accounts.
func (s *Store) List(ctx context.Context) ([]samlflex.Account, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT sid, body FROM accounts ORDER BY sid`)
	if err != nil {
		return nil, s.wrap(ctx, "list", err)
	}
	defer rows.Close()
	var out []samlflex.Account
	for rows.Next() {
		var sid, body string
		if err := rows.Scan(&sid, &body); err != nil {
			return nil, s.wrap(ctx, "list", err)
		}
		a, err := decodeAccount(sid, []byte(body))
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(ctx, "list", err)
	}
	return out, nil
}

// Delete implements store.Accounts.
func (s *Store) Delete(ctx context.Context, sid string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM accounts WHERE sid = ?`, sid)
	if err != nil {
		return s.wrap(ctx, "delete "+sid, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap(ctx, "delete "+sid, err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// decodeAccount reads the JSON that Put stored for sid.
func decodeAccount(sid string, body []byte) (samlflex.Account, error) {
	return storeutil.DecodeAccount("sqlitestore", sid, body)
}
