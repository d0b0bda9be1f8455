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
	return open(dir, now, logger, true)
}

// OpenExisting is Open for commands that change an existing set (`samlflex
// keys`): a missing file is an error wrapping fs.ErrNotExist, because
// generating a set there would only hide a mistyped directory.
func OpenExisting(dir string, now func() time.Time, logger *slog.Logger) (*Source, error) {
	return open(dir, now, logger, false)
}

func open(dir string, now func() time.Time, logger *slog.Logger, create bool) (*Source, error) {
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
	if !create {
		if _, err := os.Stat(s.path); err != nil {
			return nil, fmt.Errorf("filekeys: no key file %s: %w", s.path, err)
		}
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

// Stored returns the set as the file holds it, retired keys included
// (Keys leaves out a retired previous key).
func (s *Source) Stored(ctx context.Context) (*keys.Set, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	set, _, err := s.load()
	return set, err
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
	rotated, err := s.update(ctx, func(cur *keys.Set) (*keys.Set, error) {
		newNext, err := s.newPair()
		if err != nil {
			return nil, err
		}
		rotated := cur.Rotate(newNext, s.now())
		if rotated.Next == nil {
			// The file had no next key: publish a fresh one so that the next
			// rotation is announced in metadata ahead of time.
			if rotated.Next, err = s.newPair(); err != nil {
				return nil, err
			}
		}
		return rotated, nil
	})
	if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "sp_key_rotated", "path", s.path,
		"current_kid", rotated.Current.Kid, "next_kid", rotated.Next.Kid,
		"next_cert_sha256", keys.Fingerprint(rotated.Next.Certificate))
	return rotated, nil
}

// RotateNow makes a new key current at once and publishes a new next key
// (keys.Set.RotateNow): the emergency path for a leaked key. The old current
// key becomes previous and retires on the normal schedule, or is dropped at
// once with retirePrevious.
func (s *Source) RotateNow(ctx context.Context, retirePrevious bool) (*keys.Set, error) {
	out, err := s.update(ctx, func(cur *keys.Set) (*keys.Set, error) {
		c, err := s.newPair()
		if err != nil {
			return nil, err
		}
		n, err := s.newPair()
		if err != nil {
			return nil, err
		}
		return cur.RotateNow(c, n, s.now(), retirePrevious)
	})
	if err != nil {
		return nil, err
	}
	s.logger.WarnContext(ctx, "sp_key_rotated_now", "path", s.path,
		"current_kid", out.Current.Kid, "next_kid", out.Next.Kid, "previous_kid", kidOf(out.Previous),
		"current_cert_sha256", keys.Fingerprint(out.Current.Certificate))
	return out, nil
}

// Revoke removes key kid from the set on disk (keys.Set.Revoke): from then
// on no reader of the file trusts it. Revoking the next key publishes a new
// one; revoking the current key is refused (keys.ErrRevokeCurrent).
func (s *Source) Revoke(ctx context.Context, kid string) (*keys.Set, error) {
	out, err := s.update(ctx, func(cur *keys.Set) (*keys.Set, error) {
		return cur.Revoke(kid, s.newPair)
	})
	if err != nil {
		return nil, err
	}
	s.logger.WarnContext(ctx, "sp_key_revoked", "path", s.path, "kid", kid,
		"current_kid", out.Current.Kid, "next_kid", kidOf(out.Next))
	return out, nil
}

// update replaces the set on disk with fn(the set on disk), under the
// source's lock, and serves the result from then on.
func (s *Source) update(ctx context.Context, fn func(*keys.Set) (*keys.Set, error)) (*keys.Set, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, _, err := s.load()
	if err != nil {
		return nil, err
	}
	next, err := fn(cur)
	if err != nil {
		return nil, err
	}
	stamp, err := s.write(next)
	if err != nil {
		return nil, err
	}
	s.set, s.stamp = next, stamp
	return next, nil
}

func (s *Source) newPair() (*keys.Pair, error) {
	return keys.Generate(generateAlgorithm, s.now(), generateValidity, commonName, s.rand)
}

func kidOf(p *keys.Pair) string {
	if p == nil {
		return ""
	}
	return p.Kid
}

func (s *Source) generate() (*keys.Set, error) {
	cur, err := s.newPair()
	if err != nil {
		return nil, err
	}
	next, err := s.newPair()
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
