package filekeys

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeAtomic replaces dir/name with data so that readers see either the old
// file or the complete new one, never a prefix: the data goes to a temporary
// file in the same directory (rename is only atomic within one file
// system), is fsynced, and is then renamed over the target; the directory is
// fsynced so the rename itself survives a crash.
//
// beforeRename, if not nil, runs after the temporary file is complete and
// before the rename; tests use it to fail at the last moment.
func writeAtomic(dir, name string, data []byte, beforeRename func(tmpPath string) error) (err error) {
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("filekeys: create temporary file: %w", err)
	}
	tmpPath := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmpPath)
		}
	}()
	// CreateTemp already uses 0600; chmod makes it independent of that
	// detail and of the umask.
	if err = tmp.Chmod(fileMode); err != nil {
		return fmt.Errorf("filekeys: chmod temporary file: %w", err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("filekeys: write temporary file: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("filekeys: fsync temporary file: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("filekeys: close temporary file: %w", err)
	}
	if beforeRename != nil {
		if err = beforeRename(tmpPath); err != nil {
			return err
		}
	}
	if err = os.Rename(tmpPath, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("filekeys: replace key file: %w", err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("filekeys: open directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("filekeys: fsync directory: %w", err)
	}
	return nil
}
