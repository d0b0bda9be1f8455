package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/boltstore"
	"github.com/samlflex/samlflex/internal/store/dynamostore"
	"github.com/samlflex/samlflex/internal/store/dynamostore/dynamoclient"
)

// storeFileName is the bbolt file inside the data directory.
const storeFileName = "samlflex.db"

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
	if d := getenv("SAMLFLEX_DEV_DATA"); d != "" {
		return d
	}
	return defaultDevDataDir
}

func dataDirDefault(getenv func(string) string) string {
	if d := getenv("SAMLFLEX_DATA"); d != "" {
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
	fs.StringVar(&s.data, "data", dataDirDefault(getenv), "`DIR` of the embedded store (DIR/samlflex.db) (default $SAMLFLEX_DATA,\nelse ./.samlflex)")
	fs.StringVar(&s.table, "dynamodb-table", getenv("SAMLFLEX_ACCOUNTS_TABLE"), "DynamoDB accounts `TABLE` instead of the embedded store (the CDK stack's\naccounts table; default $SAMLFLEX_ACCOUNTS_TABLE); uses the default AWS\ncredential chain (environment, profile, SSO, instance role)")
	fs.StringVar(&s.endpoint, "dynamodb-endpoint", "", "DynamoDB endpoint `URL` for a local emulator (dynalite, DynamoDB Local);\nonly with --dynamodb-table")
}

// resolve settles the choice of store and reports contradictory flags (a
// usage error). A flag given on the command line beats the environment: an
// explicit --data uses the embedded store even when SAMLFLEX_ACCOUNTS_TABLE
// is set.
func (s *storageFlags) resolve(given map[string]bool) error {
	if given["data"] && given["dynamodb-table"] {
		return errors.New("use either --data (embedded store) or --dynamodb-table (DynamoDB), not both")
	}
	if given["data"] {
		s.table = ""
	}
	if s.endpoint != "" && s.table == "" {
		return errors.New("--dynamodb-endpoint needs --dynamodb-table (or $SAMLFLEX_ACCOUNTS_TABLE)")
	}
	if s.table == "" && s.data == "" {
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

// openAccounts opens the selected store for account commands. Closing it
// releases the bbolt file lock.
func (s *storageFlags) openAccounts(ctx context.Context) (store.Accounts, func() error, error) {
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
	st, err := boltstore.Open(filepath.Join(s.data, storeFileName), boltstore.Options{})
	if err != nil {
		return nil, nil, err
	}
	return st, st.Close, nil
}

// storeFailure turns a store error into a sentence for the terminal.
func storeFailure(err error) string {
	switch {
	case errors.Is(err, boltstore.ErrInUse):
		return err.Error() + " (a running `samlflex serve` or `samlflex dev` holds it: stop it first, or point --data elsewhere)"
	case errors.Is(err, store.ErrUnavailable):
		return "the store is unavailable, nothing was changed; try again (" + err.Error() + ")"
	}
	return err.Error()
}
