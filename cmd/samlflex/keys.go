package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
)

const keysShowAbout = `Shows the SP key set: each key's slot, kid and session-token kid (as in the
JWKS and in JWT headers; "-" for a key stored before token keys existed),
certificate fingerprint, since when it signs, and when the previous key
retires. Retired keys are still listed: they are stored until
the next rotation, but nothing trusts them. See docs/keys.md.`

const keysRotateAbout = `Rotates the SP key set. Without --now: a normal rotation (the next key,
already published in metadata, becomes current; the current key becomes
previous). Locally it rewrites the key file; on AWS it asks Secrets Manager
to run the rotate function.

With --now, the emergency path for a leaked key: a brand-new key becomes
current at once and a new next key is published. The old next key is
dropped, not promoted: it is stored with the leaked one. The old current key
becomes previous and keeps verifying sessions it signed until it retires
(the longest session lifetime, 24h, plus a margin); with --retire-previous
it is dropped at once, which signs every agent out and makes logins in
progress restart. Use --retire-previous when the current key itself leaked.
IdPs that verify request signatures must be given the new certificate.
See docs/keys.md.`

const keysRevokeAbout = `Removes one key, by kid or session-token kid, from the SP key set, with
its token key: from then on the JWKS, the login-cookie keys and the
metadata no longer contain it. Sessions and
logins in progress that it signed stop working. Revoking the next key
publishes a new one. The current key cannot be revoked: replace it first
with "samlflex keys rotate --now --retire-previous". See docs/keys.md.`

const keysGroupAbout = `samlflex keys manages the SP key set: locally the key file of "samlflex serve"
(--data DIR), on AWS the stack's Secrets Manager secret (--secret-id SECRET).
A leaked key: see docs/keys.md.`

func newKeysFlags(name string, getenv func(string) string) (*flag.FlagSet, *keyStorageFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	k := &keyStorageFlags{}
	k.register(fs, getenv)
	return fs, k
}

// openKeys parses flags, runs check (a usage problem, or "") and opens
// the backend; done reports an exit.
func (a *app) openKeys(ctx context.Context, c command, fs *flag.FlagSet, k *keyStorageFlags, args []string, check func() string) (keyStore, int, bool) {
	if code, done := a.parseFlags(c, fs, args); done {
		return nil, code, true
	}
	if err := k.resolve(visited(fs)); err != nil {
		return nil, a.usageError(c, "%v", err), true
	}
	if msg := check(); msg != "" {
		return nil, a.usageError(c, "%s", msg), true
	}
	ks, err := k.open(ctx, a.now)
	if err != nil {
		return nil, a.failure(c, "%v", err), true
	}
	return ks, exitOK, false
}

func runKeysShow(ctx context.Context, a *app, args []string) int {
	c, _ := findCommand("keys show")
	fs, k := newKeysFlags(c.name, a.getenv)
	ks, code, done := a.openKeys(ctx, c, fs, k, args, func() string { return "" })
	if done {
		return code
	}
	set, err := ks.stored(ctx)
	if err != nil {
		return a.failure(c, "%v", err)
	}
	fmt.Fprintf(a.stdout, "SP key set in %s:\n", ks.describe())
	printKeySet(a.stdout, set, a.now(), ks.retireAfter())
	return exitOK
}

func runKeysRotate(ctx context.Context, a *app, args []string) int {
	c, _ := findCommand("keys rotate")
	fs, k := newKeysFlags(c.name, a.getenv)
	now := fs.Bool("now", false, "emergency: a brand-new key becomes current at once (see above)")
	retire := fs.Bool("retire-previous", false, "with --now: drop the old current key at once instead of letting it\nretire on schedule (signs every agent out)")
	ks, code, done := a.openKeys(ctx, c, fs, k, args, func() string {
		if *retire && !*now {
			return "--retire-previous only applies to --now (a normal rotation keeps the old key until it retires)"
		}
		return ""
	})
	if done {
		return code
	}
	before, err := ks.stored(ctx)
	if err != nil {
		return a.failure(c, "%v", err)
	}
	var (
		set  *keys.Set
		note string
	)
	if *now {
		set, note, err = ks.rotateNow(ctx, *retire)
	} else {
		set, note, err = ks.rotate(ctx)
	}
	if set == nil {
		if err != nil {
			return a.failure(c, "%v; nothing was changed", err)
		}
		fmt.Fprintln(a.stdout, note)
		return exitOK
	}
	fmt.Fprintf(a.stdout, "Rotated the SP key set in %s:\n", ks.describe())
	printKeySet(a.stdout, set, a.now(), ks.retireAfter())
	if note != "" {
		fmt.Fprintln(a.stdout, "\n"+note)
	}
	old := before.Current.Kid
	switch {
	case *now && *retire:
		fmt.Fprintf(a.stdout, "\nThe old current key %s is no longer trusted: every session it signed has ended\n(agents sign in again) and logins in progress must restart.\n", old)
	case *now:
		fmt.Fprintf(a.stdout, "\nThe old current key %s keeps verifying sessions it signed until it retires.\nTo end them now: samlflex keys revoke --kid %s\n", old, old)
	}
	if *now {
		fmt.Fprintf(a.stdout, "\nIdPs that verify request signatures (Salesforce: \"Verify Request Signatures\")\ndo not know the new certificate yet; upload it from the SP metadata\n(BASE/v1/Accounts/AC.../saml2/metadata). Until then logins that start at\nsamlflex fail at those IdPs. Its SHA-256 fingerprint:\n  %s\n",
			keys.Fingerprint(set.Current.Certificate))
	}
	fmt.Fprintln(a.stdout, "\n"+ks.pickUp())
	if err != nil {
		return a.failure(c, "%v", err)
	}
	return exitOK
}

func runKeysRevoke(ctx context.Context, a *app, args []string) int {
	c, _ := findCommand("keys revoke")
	fs, k := newKeysFlags(c.name, a.getenv)
	kid := fs.String("kid", "", "the `KID` to revoke (see samlflex keys show, or the JWKS)")
	ks, code, done := a.openKeys(ctx, c, fs, k, args, func() string {
		if strings.TrimSpace(*kid) == "" {
			return "--kid is required"
		}
		return ""
	})
	if done {
		return code
	}
	set, note, err := ks.revoke(ctx, *kid)
	switch {
	case errors.Is(err, keys.ErrRevokeCurrent):
		fmt.Fprintf(a.stderr, `samlflex %s: %s is the current signing key, and a key set cannot be without one.
Nothing was changed. To replace it and drop it in one step:
  samlflex keys rotate --now --retire-previous %s
or, to let its sessions run out first: samlflex keys rotate --now, then revoke it.
`, c.name, *kid, k.flagsHint())
		return exitUsage
	case errors.Is(err, keys.ErrUnknownKid):
		return a.failure(c, "there is no key %q in %s; nothing was changed (samlflex keys show lists the kids)", *kid, ks.describe())
	case set == nil:
		return a.failure(c, "%v; nothing was changed", err)
	}
	fmt.Fprintf(a.stdout, "Revoked %s in %s. The key set is now:\n", *kid, ks.describe())
	printKeySet(a.stdout, set, a.now(), ks.retireAfter())
	if note != "" {
		fmt.Fprintln(a.stdout, "\n"+note)
	}
	fmt.Fprintln(a.stdout, "\n"+ks.pickUp())
	if err != nil {
		return a.failure(c, "%v", err)
	}
	return exitOK
}

// flagsHint repeats the storage flags for a suggested command.
func (k *keyStorageFlags) flagsHint() string {
	if k.secretID != "" {
		return "--secret-id " + k.secretID
	}
	return "--data " + k.data
}

// printKeySet writes one line per slot.
func printKeySet(w io.Writer, s *keys.Set, now time.Time, retireAfter time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SLOT\tKID\tTOKEN KID\tSTATUS\tCERTIFICATE SHA-256")
	if p := s.Previous; p != nil {
		status := "trusted until the next rotation (rotation time not recorded)"
		if at, ok := keys.PreviousRetiresAt(s, retireAfter, 0); ok {
			if now.Before(at) {
				status = "verifies old sessions until " + at.UTC().Format(time.RFC3339)
			} else {
				status = "retired " + at.UTC().Format(time.RFC3339) + ": trusted by nothing"
			}
		}
		fmt.Fprintf(tw, "  previous\t%s\t%s\t%s\t%s\n", p.Kid, tokenKid(p), status, keys.Fingerprint(p.Certificate))
	}
	since := "signs now"
	if !s.Current.CurrentSince.IsZero() {
		since = "signs since " + s.Current.CurrentSince.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(tw, "  current\t%s\t%s\t%s\t%s\n", s.Current.Kid, tokenKid(s.Current), since, keys.Fingerprint(s.Current.Certificate))
	if n := s.Next; n != nil {
		fmt.Fprintf(tw, "  next\t%s\t%s\t%s\t%s\n", n.Kid, tokenKid(n), "published, signs after the next rotation", keys.Fingerprint(n.Certificate))
	}
	_ = tw.Flush()
}

// tokenKid is the kid of p's session-token key (ES256), or "-" for a pair
// stored before token keys existed (its tokens are RS256, with KID).
func tokenKid(p *keys.Pair) string {
	if p.Token == nil {
		return "-"
	}
	return p.Token.Kid
}
