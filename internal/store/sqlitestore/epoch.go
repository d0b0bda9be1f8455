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

// Deferred used-ID records are committed without an fsync; the replay
// epoch tells when some may have been lost.
//
// MarkUsedDeferred commits with synchronous=NORMAL: in WAL mode the commit
// is a write(2) to the WAL, which survives a killed process (the bytes are
// in the kernel's page cache) but not a kernel crash or a power cut. The
// fsync it skips was a third of a login (issue 12). What a crash can lose
// is the record of IDs used shortly before it; so the store says when that
// may have happened, and the ACS relies on deferred records only for
// logins started since (internal/acs):
//
//   - every handle registers itself in table opens, durably (an fsynced
//     commit), with the kernel's boot ID, before its first NORMAL commit;
//   - Close first stops the NORMAL writes (waiting for those in flight),
//     then deletes its row with an fsynced commit, which makes every
//     earlier commit in the WAL durable;
//   - Open finds a row of another boot only if a handle was still open
//     when the machine went down: records written before now may be
//     missing, and Open durably adds one to meta.replay_epoch. The epoch
//     is a counter, not a time, so no clock, right or wrong, enters.
//
// A handle left open by a killed process in the same boot is harmless (its
// commits are in the page cache), and stays until a later boot, which then
// moves the epoch: at worst one needless fresh login per agent. Without a
// boot ID (not Linux, or /proc not mounted) every commit is fsynced, as
// before, and a handle registered by another process counts as possibly
// left by an earlier boot.

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

// register records this handle in opens, first moving the replay epoch on
// if a handle of another boot was never closed, in one fsynced
// transaction, and reads the epoch. Without a boot ID (boot "") it
// registers nothing (its used-ID records are fsynced) and counts every
// registered handle as possibly of an earlier boot: another process on
// the file may skip the fsync, and this one could not tell whether the
// machine went down since.
func (s *Store) register(ctx context.Context, boot string, now time.Time) (err error) {
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES ('replay_epoch', 1)
			ON CONFLICT (name) DO UPDATE SET value = value + 1`); err != nil {
			return s.wrap(ctx, "move the replay epoch", err)
		}
		// Handles of this boot stay registered: they are running.
		if _, err := tx.ExecContext(ctx, `DELETE FROM opens WHERE boot_id <> ? AND ? <> ''`, boot, boot); err != nil {
			return s.wrap(ctx, "register", err)
		}
	}
	if boot != "" {
		var id [16]byte
		if _, err := rand.Read(id[:]); err != nil {
			return err
		}
		openID = hex.EncodeToString(id[:])
		if _, err := tx.ExecContext(ctx, `INSERT INTO opens (id, boot_id, opened_at) VALUES (?, ?, ?)`,
			openID, boot, now.UnixNano()); err != nil {
			return s.wrap(ctx, "register", err)
		}
	}
	var epoch sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = 'replay_epoch'`).Scan(&epoch); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return s.wrap(ctx, "read the replay epoch", err)
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(ctx, "register", err)
	}
	s.openID, s.epoch, s.crashSeen = openID, epoch.Int64, stale > 0
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

// ReplayEpoch implements store.Assertions: how many times the machine went
// down while a handle had this file open (as seen by the Opens since).
func (s *Store) ReplayEpoch() int64 { return s.epoch }

// CrashSeen reports whether this Open moved the replay epoch on: the
// machine went down while a handle had the file open (or, without a boot
// ID, another handle was registered).
func (s *Store) CrashSeen() bool { return s.crashSeen }

// Durable reports whether MarkUsedDeferred fsyncs too (no boot ID: a
// crash could not be detected).
func (s *Store) Durable() bool { return s.fast == nil }
