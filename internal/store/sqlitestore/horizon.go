package sqlitestore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// One-time-use records are committed without an fsync; the replay horizon
// keeps that safe.
//
// A login's used-ID insert is committed with synchronous=NORMAL: in WAL
// mode the commit is a write(2) to the WAL, which survives a killed
// process (the bytes are in the kernel's page cache) but not a kernel
// crash or a power cut. The fsync it skips was a third of a login
// (issue 12). What a crash can lose is the record of IDs used shortly
// before it; what must never follow is a login on one of those responses
// again. So:
//
//   - every handle registers itself in table opens, durably (an fsynced
//     commit), with the kernel's boot ID, before its first NORMAL commit;
//   - Close first stops the NORMAL writes, then deletes its row with an
//     fsynced commit, which makes every earlier commit in the WAL durable;
//   - Open finds a row of another boot only if a handle was still open
//     when the machine went down: then records written before now may be
//     missing, and Open durably sets the replay horizon to now. The ACS
//     grants nothing on a response that could have been used before the
//     horizon (a login started before it, or an unsolicited response
//     issued before it plus the clock skew) and answers it with a fresh
//     login instead (internal/acs).
//
// A handle left open by a killed process in the same boot is harmless (its
// commits are in the page cache), and stays until a later boot, which then
// sets a horizon: at worst one needless fresh login per agent. Without a
// boot ID (not Linux, or /proc not mounted) every commit is fsynced, as
// before, and a handle registered by another process counts as possibly
// left by an earlier boot. The horizon assumes the clock after the restart is not behind
// the time of the crash, which the assertion lifetimes assume too.

// bootIDPath is where Linux publishes a random ID of the current boot.
const bootIDPath = "/proc/sys/kernel/random/boot_id"

// ReadBootID reads the kernel's boot ID (Options.BootID's default).
func ReadBootID() (string, error) {
	b, err := os.ReadFile(bootIDPath)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(b))
	if id == "" {
		return "", fmt.Errorf("%s is empty", bootIDPath)
	}
	return id, nil
}

// register records this handle in opens, first setting the replay horizon
// to now if a handle of another boot was never closed, in one fsynced
// transaction, and reads the horizon. Without a boot ID (boot "") it
// registers nothing (its used-ID records are fsynced) and counts every
// registered handle as possibly of an earlier boot: another process on
// the file may skip the fsync, and this one could not tell whether the
// machine went down since.
func (s *Store) register(ctx context.Context, boot string, now time.Time) (err error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(ctx, "register", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var (
		stale  int
		openID string
	)
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM opens WHERE boot_id <> ? OR ? = ''`, boot, boot).Scan(&stale); err != nil {
		return s.wrap(ctx, "register", err)
	}
	if stale > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES ('replay_horizon', ?)
			ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)`, now.UnixNano()); err != nil {
			return s.wrap(ctx, "set replay horizon", err)
		}
		// Handles of this boot stay registered: they are running.
		if _, err := tx.ExecContext(ctx, `DELETE FROM opens WHERE boot_id <> ? AND ? <> ''`, boot, boot); err != nil {
			return s.wrap(ctx, "register", err)
		}
	}
	if boot != "" {
		if _, err := tx.ExecContext(ctx, `INSERT INTO opens (id, boot_id, opened_at) VALUES (?, ?, ?)`,
			hex.EncodeToString(id[:]), boot, now.UnixNano()); err != nil {
			return s.wrap(ctx, "register", err)
		}
		openID = hex.EncodeToString(id[:])
	}
	var h sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = 'replay_horizon'`).Scan(&h); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return s.wrap(ctx, "read replay horizon", err)
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(ctx, "register", err)
	}
	s.openID = openID
	if h.Valid {
		s.horizon = time.Unix(0, h.Int64)
	}
	return nil
}

// unregister deletes this handle's row with an fsynced commit, once the
// NORMAL pool is closed: the fsync of the WAL makes every earlier commit
// durable, so a crash after it loses nothing.
func (s *Store) unregister() error {
	if s.openID == "" {
		return nil
	}
	ctx := context.Background()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM opens WHERE id = ?`, s.openID); err != nil {
		return s.wrap(ctx, "unregister", err)
	}
	return nil
}

// ReplayHorizon implements store.Assertions: zero unless the machine went
// down while a handle had this file open (then the instant the first
// handle after it was opened; or, for a handle without a boot ID, when it
// was opened while a handle that skips the fsync was registered).
func (s *Store) ReplayHorizon() time.Time { return s.horizon }

// Durable reports whether every used-ID record is fsynced before MarkUsed
// returns (no boot ID: the horizon cannot be kept).
func (s *Store) Durable() bool { return s.fast == nil }
