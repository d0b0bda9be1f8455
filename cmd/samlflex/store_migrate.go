package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/samlflex/samlflex/internal/store/boltmigrate"
)

const storeMigrateAbout = `Converts the embedded store of an older samlflex (DIR/samlflex.db, bbolt)
to the current one (DIR/samlflex.sqlite, SQLite): every account with its
version, and the assertion IDs that have not expired (so that a replay is
still caught). The old file is renamed to samlflex.db.migrated, never
deleted; if anything fails, the directory is left as it was.

serve, dev and the account commands do this by themselves the first time
they open such a directory; this command does it on purpose (before an
upgrade window, or from a script). Stop the old samlflex first: while it
runs, its file is locked and nothing is migrated.`

func runStoreMigrate(ctx context.Context, a *app, args []string) int {
	c, _ := findCommand("store migrate")
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	data := fs.String("data", dataDirDefault(a.getenv), "`DIR` holding samlflex.db (default $SAMLFLEX_DATA, else ./.samlflex)")
	if code, done := a.parseFlags(c, fs, args); done {
		return code
	}
	sqlitePath := filepath.Join(*data, storeFileName)
	boltPath := filepath.Join(*data, boltFileName)
	switch sqliteOK, boltOK := exists(sqlitePath), exists(boltPath); {
	case !boltOK && sqliteOK:
		fmt.Fprintf(a.stdout, "Nothing to migrate: %s already holds the SQLite store (%s).\n", *data, storeFileName)
		return exitOK
	case !boltOK:
		return a.failure(c, "there is no store (%s or %s) in %s; check --data", boltFileName, storeFileName, *data)
	}
	res, err := boltmigrate.Migrate(ctx, boltPath, sqlitePath, a.now())
	if errors.Is(err, boltmigrate.ErrTargetExists) {
		return a.failure(c, "%s and %s both exist in %s; samlflex uses %s and will not merge the old file into it (that could bring back old account versions). Move %s away if it is not needed", boltFileName, storeFileName, *data, storeFileName, boltFileName)
	}
	if err != nil {
		return a.failure(c, "nothing was changed: %s", storeFailure(err))
	}
	fmt.Fprintln(a.stdout, &storeEvent{Dir: *data, Migrated: &res})
	return exitOK
}
