package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/samlflex/samlflex/internal/config"
	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/boltmigrate"
	"github.com/samlflex/samlflex/internal/store/boltstore"
	"github.com/samlflex/samlflex/internal/store/dynamostore"
	"github.com/samlflex/samlflex/internal/store/dynamostore/dynamoclient"
	"github.com/samlflex/samlflex/internal/store/sqlitestore"
)

// storeFileName is the embedded store (SQLite) inside the data directory.
const storeFileName = "samlflex.sqlite"

// boltFileName is the embedded store of samlflex before SQLite (bbolt).
// It is migrated into storeFileName on first use and renamed to
// samlflex.db.migrated.
const boltFileName = "samlflex.db"

// defaultDataDir is used when neither --data nor SAMLFLEX_DATA is given: a
// hidden directory in the working directory, so that `go run ./cmd/samlflex
// dev` in a checkout keeps its state next to the code (and .gitignore can
// name it).
const defaultDataDir = ".samlflex"

// defaultDevDataDir is dev's own default. dev writes a demo account whose
// IdP private key is on disk next to it; sharing serve's directory would
// put that account in the store serve exposes.
const defaultDevDataDir = ".samlflex-dev"

// devDataDirDefault is dev's --data default: $SAMLFLEX_DEV_DATA, else
// ./.samlflex-dev. It never follows SAMLFLEX_DATA, which names serve's.
func devDataDirDefault(getenv func(string) string) string {
	if d := getenv(config.EnvDevData); d != "" {
		return d
	}
	return defaultDevDataDir
}

func dataDirDefault(getenv func(string) string) string {
	if d := getenv(config.EnvData); d != "" {
		return d
	}
	return defaultDataDir
}

// storageFlags selects where account settings live.
type storageFlags struct {
	data     string
	table    string
	endpoint string
}

func (s *storageFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&s.data, "data", dataDirDefault(getenv), "`DIR` of the embedded store (DIR/samlflex.sqlite) (default $SAMLFLEX_DATA,\nelse ./.samlflex)")
	fs.StringVar(&s.table, "dynamodb-table", getenv(config.EnvAccountsTable), "DynamoDB accounts `TABLE` instead of the embedded store (the CDK stack's\naccounts table; default $SAMLFLEX_ACCOUNTS_TABLE); uses the default AWS\ncredential chain (environment, profile, SSO, instance role)")
	fs.StringVar(&s.endpoint, "dynamodb-endpoint", "", "DynamoDB endpoint `URL` for a local emulator (dynalite, DynamoDB Local);\nonly with --dynamodb-table")
}

// resolve settles the choice of store and reports contradictory flags (a
// usage error). A flag given on the command line beats the environment: an
// explicit --data uses the embedded store even when SAMLFLEX_ACCOUNTS_TABLE
// is set.
func (s *storageFlags) resolve(given map[string]bool) error {
	return resolveBackend(given, s.data, &s.table, s.endpoint, backendNames{
		local: "embedded store", remoteFlag: "dynamodb-table", remote: "DynamoDB",
		endpointFlag: "dynamodb-endpoint", remoteEnv: config.EnvAccountsTable,
	})
}

// backendNames are the words of resolveBackend's usage errors for one
// flag set: what --data selects, the flag (and its environment variable)
// that selects the AWS resource instead, and the flag of its endpoint.
type backendNames struct {
	local, remoteFlag, remote, endpointFlag, remoteEnv string
}

// resolveBackend applies the rules that the account and the keys flag
// sets share. The AWS resource (*remote, which may come from the
// environment) wins unless --data was given on the command line; giving
// both is a usage error, as is an endpoint without a resource, or no
// resource and an empty --data.
func resolveBackend(given map[string]bool, data string, remote *string, endpoint string, n backendNames) error {
	if given["data"] && given[n.remoteFlag] {
		return fmt.Errorf("use either --data (%s) or --%s (%s), not both", n.local, n.remoteFlag, n.remote)
	}
	if given["data"] {
		*remote = ""
	}
	if endpoint != "" && *remote == "" {
		return fmt.Errorf("--%s needs --%s (or $%s)", n.endpointFlag, n.remoteFlag, n.remoteEnv)
	}
	if *remote == "" && data == "" {
		return errors.New("--data must not be empty")
	}
	return nil
}

// describe names the store in messages ("there is no account X in ...").
func (s *storageFlags) describe() string {
	if s.table != "" {
		if s.endpoint != "" {
			return fmt.Sprintf("DynamoDB table %s at %s", s.table, s.endpoint)
		}
		return "DynamoDB table " + s.table
	}
	return "the embedded store in " + s.data
}

// openAccounts opens the selected store for account commands. A
// migration of an old bbolt store is reported on notice (stderr: stdout
// may be JSON for a script).
func (s *storageFlags) openAccounts(ctx context.Context, notice io.Writer) (store.Accounts, func() error, error) {
	if s.table != "" {
		client, err := dynamoclient.New(ctx, s.endpoint)
		if err != nil {
			return nil, nil, err
		}
		// Account commands never touch the assertions table, so it needs
		// no name here.
		st := dynamostore.New(client, dynamostore.Tables{Accounts: s.table})
		return st, st.Close, nil
	}
	st, ev, err := openEmbedded(ctx, s.data, sqlitestore.Options{}, time.Now())
	if err != nil {
		return nil, nil, err
	}
	if ev != nil {
		fmt.Fprintln(notice, ev)
	}
	return st, st.Close, nil
}

// openEmbedded opens the embedded store of dir: DIR/samlflex.sqlite,
// which several samlflex processes may use at once. If the directory still
// has only the bbolt store of an older samlflex, it is migrated first
// (boltmigrate: nothing is deleted). The event, if not nil, says what
// happened and is for the caller to print or log.
func openEmbedded(ctx context.Context, dir string, opts sqlitestore.Options, now time.Time) (*sqlitestore.Store, *storeEvent, error) {
	sqlitePath := filepath.Join(dir, storeFileName)
	boltPath := filepath.Join(dir, boltFileName)
	var ev *storeEvent
	switch sqliteOK, boltOK := exists(sqlitePath), exists(boltPath); {
	case boltOK && !sqliteOK:
		res, err := boltmigrate.Migrate(ctx, boltPath, sqlitePath, now)
		// Another process may have migrated it meanwhile (it held the
		// bbolt lock first): then there is nothing left to do.
		if err != nil && !errors.Is(err, boltmigrate.ErrTargetExists) {
			return nil, nil, fmt.Errorf("migrating %s to %s: %w", boltPath, storeFileName, err)
		}
		if err == nil {
			ev = &storeEvent{Dir: dir, Migrated: &res}
		}
	case boltOK && sqliteOK:
		ev = &storeEvent{Dir: dir, IgnoredBolt: boltPath}
	}
	st, err := sqlitestore.Open(sqlitePath, opts)
	if err != nil {
		return nil, nil, err
	}
	return st, ev, nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// storeEvent is something openEmbedded did or noticed that an admin should
// hear about.
type storeEvent struct {
	Dir string
	// Migrated is set when the bbolt store was migrated.
	Migrated *boltmigrate.Result
	// IgnoredBolt is a bbolt file left next to the SQLite store (restored
	// from a backup, or copied in): it is not read, and not merged, since
	// merging could bring back an old version of an account.
	IgnoredBolt string
}

// String is the sentence for a terminal.
func (e *storeEvent) String() string {
	if m := e.Migrated; m != nil {
		return fmt.Sprintf("Migrated the embedded store in %s from bbolt (%s) to SQLite (%s): %d account(s), %d unexpired assertion record(s) (%d expired left behind). The old file is kept as %s.",
			e.Dir, boltFileName, storeFileName, m.Accounts, m.Assertions, m.Expired, filepath.Base(m.MovedTo))
	}
	return fmt.Sprintf("Note: %s is an old (bbolt) store and is not read, because %s exists in the same directory (the two are never merged). Move it away if it is not needed.",
		e.IgnoredBolt, storeFileName)
}

// log records the event in a server's JSON log.
func (e *storeEvent) log(ctx context.Context, logger *slog.Logger) {
	if m := e.Migrated; m != nil {
		logger.InfoContext(ctx, "store_migrated", "data", e.Dir, "from", boltFileName, "to", storeFileName,
			"accounts", m.Accounts, "assertions", m.Assertions, "expired_left", m.Expired, "kept_as", m.MovedTo)
		return
	}
	logger.WarnContext(ctx, "old_store_ignored", "data", e.Dir, "file", e.IgnoredBolt, "using", storeFileName)
}

// storeFailure turns a store error into a sentence for the terminal.
func storeFailure(err error) string {
	switch {
	case errors.Is(err, boltstore.ErrInUse):
		// Only the migration opens bbolt: an older samlflex still runs on
		// this directory.
		return err.Error() + " (an older samlflex `serve` or `dev` still uses this directory's bbolt store: stop it first, then run this again to migrate the directory, or point --data elsewhere)"
	case errors.Is(err, sqlitestore.ErrNewerSchema):
		return err.Error()
	case errors.Is(err, store.ErrUnavailable):
		return "the store is unavailable, nothing was changed; try again (" + err.Error() + ")"
	}
	return err.Error()
}

// logStoreState says in a server's log how the store keeps used assertion
// IDs, and warns when this start found that the machine went down with the
// file open: logins started before are then answered with a fresh login
// (one more round trip to the IdP), which an admin may be asked about.
func logStoreState(ctx context.Context, logger *slog.Logger, st *sqlitestore.Store) {
	writes := "deferred (no fsync; a machine crash moves the replay epoch on)"
	if st.Durable() {
		writes = "fsynced (no kernel boot ID to detect a machine crash)"
	}
	logger.InfoContext(ctx, "store_opened", "path", st.Path(), "login_used_id_writes", writes, "replay_epoch", st.ReplayEpoch())
	if st.CrashSeen() {
		logger.WarnContext(ctx, "store_crash_detected", "path", st.Path(), "replay_epoch", st.ReplayEpoch(),
			"effect", "the machine went down while samlflex had the data file open: logins started before this restart start again at the IdP (log replay_epoch_bounce), so that none can be replayed")
	}
}
