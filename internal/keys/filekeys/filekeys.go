package filekeys

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
)

// FileName is the key file inside the directory given to Open.
const FileName = "sp-keys.json"

// Parameters of generated keys. Two years keeps local certificates from
// expiring during a project while staying below the 825-day limit some
// tools apply to certificates.
const (
	generateAlgorithm = keys.RSA2048
	generateValidity  = 2 * 365 * 24 * time.Hour
	commonName        = "samlflex SP (local)"
	fileMode          = 0o600
)

// Source is a keys.Source over the local key file. It is safe for
// concurrent use.
type Source struct {
	dir    string
	path   string
	now    func() time.Time
	logger *slog.Logger
	rand   io.Reader

	mu  sync.Mutex
	set *keys.Set
	// stamp identifies the file content last loaded, so that Keys notices
	// a rotation made by another process (`samlflex keys rotate` while
	// `samlflex serve` runs).
	stamp fileStamp
}

type fileStamp struct {
	modTime time.Time
	size    int64
}

var _ keys.Source = (*Source)(nil)

// Open reads dir/sp-keys.json, or, if it does not exist, generates a set
// (current and next, RSA 2048, valid two years) and writes it. A file that
// is readable by group or others is made 0600 with a Warn log: refusing to
// start would only push developers to loosen things further. A file that
// exists but does not parse is an error and is never overwritten.
// now and logger may be nil (time.Now; logs discarded).
func Open(dir string, now func() time.Time, logger *slog.Logger) (*Source, error) {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Source{
		dir:    dir,
		path:   filepath.Join(dir, FileName),
		now:    now,
		logger: logger,
		rand:   rand.Reader,
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("filekeys: create key directory: %w", err)
	}
	set, stamp, err := s.load()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if set, err = s.generate(); err != nil {
			return nil, err
		}
		if stamp, err = s.write(set); err != nil {
			return nil, err
		}
		logger.Info("sp_keys_generated", "path", s.path, "current_kid", set.Current.Kid, "next_kid", set.Next.Kid)
	case err != nil:
		return nil, err
	}
	s.set, s.stamp = set, stamp
	return s, nil
}

// Keys returns the key set, reloading the file if another process changed
// it, with the previous key retired once keys.MaxTokenLifetime plus
// keys.DefaultRetireMargin have passed since the rotation (keys.Retire). A
// changed file that does not parse is logged and the set loaded before
// keeps being served, so that an editor's half-saved file cannot take the
// local server down.
func (s *Source) Keys(ctx context.Context) (*keys.Set, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fi, err := os.Stat(s.path)
	if err == nil && !(fi.ModTime().Equal(s.stamp.modTime) && fi.Size() == s.stamp.size) {
		set, stamp, err := s.load()
		if err != nil {
			s.logger.WarnContext(ctx, "sp_keys_reload_failed", "path", s.path, "err", err)
		} else {
			s.set, s.stamp = set, stamp
		}
	}
	return keys.Retire(s.set, s.now(), keys.MaxTokenLifetime, keys.DefaultRetireMargin), nil
}

// Rotate rotates the set on disk (previous=current, current=next, next=new
// key) and returns the new set. It starts from the file, not from memory, so
// that two processes rotating one after the other do not lose a rotation.
func (s *Source) Rotate(ctx context.Context) (*keys.Set, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, _, err := s.load()
	if err != nil {
		return nil, err
	}
	newNext, err := keys.Generate(generateAlgorithm, s.now(), generateValidity, commonName, s.rand)
	if err != nil {
		return nil, err
	}
	rotated := cur.Rotate(newNext, s.now())
	if rotated.Next == nil {
		// The file had no next key: publish a fresh one so that the next
		// rotation is announced in metadata ahead of time.
		if rotated.Next, err = keys.Generate(generateAlgorithm, s.now(), generateValidity, commonName, s.rand); err != nil {
			return nil, err
		}
	}
	stamp, err := s.write(rotated)
	if err != nil {
		return nil, err
	}
	s.set, s.stamp = rotated, stamp
	s.logger.InfoContext(ctx, "sp_key_rotated", "path", s.path,
		"current_kid", rotated.Current.Kid, "next_kid", rotated.Next.Kid,
		"next_cert_sha256", keys.Fingerprint(rotated.Next.Certificate))
	return rotated, nil
}

func (s *Source) generate() (*keys.Set, error) {
	cur, err := keys.Generate(generateAlgorithm, s.now(), generateValidity, commonName, s.rand)
	if err != nil {
		return nil, err
	}
	next, err := keys.Generate(generateAlgorithm, s.now(), generateValidity, commonName, s.rand)
	if err != nil {
		return nil, err
	}
	cur.CurrentSince = s.now().UTC()
	return &keys.Set{Current: cur, Next: next}, nil
}

// load reads and parses the file, tightening its mode first if needed.
func (s *Source) load() (*keys.Set, fileStamp, error) {
	fi, err := os.Stat(s.path)
	if err != nil {
		return nil, fileStamp{}, err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		s.logger.Warn("sp_keys_file_permissions", "path", s.path,
			"mode", fmt.Sprintf("%04o", perm),
			"action", "the key file holds private keys; changing its mode to 0600")
		if err := os.Chmod(s.path, fileMode); err != nil {
			return nil, fileStamp{}, fmt.Errorf("filekeys: restrict permissions of %s: %w", s.path, err)
		}
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("filekeys: read %s: %w", s.path, err)
	}
	set, err := keys.ParseSet(b)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("filekeys: %s: %w", s.path, err)
	}
	return set, fileStamp{modTime: fi.ModTime(), size: fi.Size()}, nil
}

func (s *Source) write(set *keys.Set) (fileStamp, error) {
	b, err := keys.MarshalSet(set)
	if err != nil {
		return fileStamp{}, err
	}
	if err := writeAtomic(s.dir, FileName, b, nil); err != nil {
		return fileStamp{}, err
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		return fileStamp{}, fmt.Errorf("filekeys: stat %s: %w", s.path, err)
	}
	return fileStamp{modTime: fi.ModTime(), size: fi.Size()}, nil
}
