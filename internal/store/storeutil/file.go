package storeutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// MakeDir checks a store file's path and creates its directory, if
// missing, with mode 0700: the file says which IdPs each account trusts.
func MakeDir(backend, path string) error {
	if path == "" {
		return errors.New(backend + ": empty path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("%s: %w", backend, err)
	}
	return nil
}
