package rotate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/samlflex/samlflex/internal/keys"
)

// Reasons logged with "sp_key_rotation_step_skipped" when an invocation
// finds that another one, running concurrently with the same token, did the
// work of its step.
const (
	reasonCreatedElsewhere  = "another invocation created the pending version"
	reasonCurrentElsewhere  = "another invocation made the version AWSCURRENT"
	reasonCompleteElsewhere = "another invocation completed the rotation"
)

// createSecret stores the rotated key set as the AWSPENDING version with
// the token as its ID. If that version already has a value (a re-run after
// a failure anywhere later), it does nothing: generating again would
// replace keys that an earlier attempt may already have logged.
//
// Concurrent invocations each generate their own keys (the keys come from
// Rand, never from the token, which Secrets Manager shows in events and
// logs), and the PutSecretValue rule decides between them: the first put
// under the token wins, and a later put with other data fails with
// ResourceExistsException because versions are immutable. A loser adopts
// the winner's version (adoptPending); its own keys were never stored and
// are dropped.
func (r *Rotator) createSecret(ctx context.Context, log *slog.Logger, ev Event) error {
	_, err := r.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId:     aws.String(ev.SecretID),
		VersionId:    aws.String(ev.ClientRequestToken),
		VersionStage: aws.String(stagePending),
	})
	switch {
	case err == nil:
		log.InfoContext(ctx, "sp_key_rotation_step_skipped", "reason", "the pending version already has a value")
		return nil
	case !isNotFound(err):
		return fmt.Errorf("read pending version: %w", err)
	}

	current, currentID, err := r.readCurrent(ctx, ev.SecretID)
	if err != nil {
		return err
	}
	if currentID == ev.ClientRequestToken {
		// The whole rotation ran between Handle's look at the labels and
		// now; rotating the new current set would skip a key.
		log.InfoContext(ctx, "sp_key_rotation_step_skipped", "reason", reasonCurrentElsewhere)
		return nil
	}
	var pending *keys.Set
	if current == nil {
		// Nothing was ever published, so there is nothing to rotate away
		// from: the pending version is a fresh set (current and next).
		cur, err := r.generate()
		if err != nil {
			return err
		}
		next, err := r.generate()
		if err != nil {
			return err
		}
		cur.CurrentSince = r.opts.Now().UTC()
		pending = &keys.Set{Current: cur, Next: next}
		log.InfoContext(ctx, "sp_keys_seeding", "reason", "the secret has no current key set")
	} else {
		newNext, err := r.generate()
		if err != nil {
			return err
		}
		// The new current key is recorded as current from now, although it
		// only starts signing when finishSecret moves AWSCURRENT: normally
		// seconds later. finishSecret warns when the gap has grown to eat
		// the retirement margin (see warnLateFinish).
		pending = current.Rotate(newNext, r.opts.Now())
		if pending.Next == nil {
			// The old set had no next key, so the new current was never
			// pre-published; at least publish one from now on.
			if pending.Next, err = r.generate(); err != nil {
				return err
			}
		}
	}
	b, err := keys.MarshalSet(pending)
	if err != nil {
		return err
	}
	// ClientRequestToken = the event's token makes the put idempotent: an
	// SDK retry of a put whose answer was lost does not add a version.
	if _, err := r.api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(ev.SecretID),
		ClientRequestToken: aws.String(ev.ClientRequestToken),
		SecretString:       aws.String(string(b)),
		VersionStages:      []string{stagePending},
	}); err != nil {
		var exists *types.ResourceExistsException
		if errors.As(err, &exists) {
			return r.adoptPending(ctx, log, ev, current, err)
		}
		return fmt.Errorf("put pending version: %w", err)
	}
	log.InfoContext(ctx, "sp_key_rotation_pending_created",
		"current_kid", pending.Current.Kid, "next_kid", pending.Next.Kid)
	return nil
}

// adoptPending handles a put refused because the token's version already
// has other data: another invocation stored its key set first. The step
// succeeds if that version is what this one would have stored, a valid
// rotation of current (the set this invocation rotated), or if the
// rotation has meanwhile gone on to make it AWSCURRENT. Anything else was
// not written by a rotation of this set, and is refused now rather than
// left to testSecret.
func (r *Rotator) adoptPending(ctx context.Context, log *slog.Logger, ev Event, current *keys.Set, putErr error) error {
	out, err := r.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId:  aws.String(ev.SecretID),
		VersionId: aws.String(ev.ClientRequestToken),
	})
	if err != nil {
		return fmt.Errorf("put pending version: %w; reading the version that exists: %w", putErr, err)
	}
	switch {
	case slices.Contains(out.VersionStages, stageCurrent):
		log.InfoContext(ctx, "sp_key_rotation_step_skipped", "reason", reasonCurrentElsewhere)
		return nil
	case !slices.Contains(out.VersionStages, stagePending):
		return fmt.Errorf("%w: put pending version: %w; the version that exists is staged %s", ErrNotPending, putErr, strings.Join(out.VersionStages, ","))
	}
	set, err := keys.ParseSet([]byte(aws.ToString(out.SecretString)))
	if err != nil {
		return fmt.Errorf("%w: the version stored under the token by someone else: %w", ErrTestFailed, err)
	}
	if err := r.validate(set, current); err != nil {
		return fmt.Errorf("the version stored under the token by someone else: %w", err)
	}
	log.InfoContext(ctx, "sp_key_rotation_step_skipped", "reason", reasonCreatedElsewhere,
		"current_kid", set.Current.Kid, "next_kid", keyID(set.Next))
	return nil
}

// setSecret has nothing to do. In the AWS model this step pushes the new
// credential into the system that checks it (a database's user table). The
// SP key has no such system: we generate it, the metadata function
// publishes the certificates straight from this secret, and IdPs fetch
// them from there. The new current key was published as "next" one
// rotation ago; the new next key appears in metadata as soon as the version
// becomes AWSCURRENT. The step is still accepted so that Secrets Manager's
// sequence completes.
func (r *Rotator) setSecret(ctx context.Context, log *slog.Logger, _ Event) error {
	log.InfoContext(ctx, "sp_key_rotation_step_skipped", "reason", "no downstream system holds the SP key")
	return nil
}

// testSecret refuses a pending set that would break logins; see
// checkPending.
func (r *Rotator) testSecret(ctx context.Context, log *slog.Logger, ev Event) error {
	pending, err := r.checkPending(ctx, ev)
	if errors.Is(err, errAlreadyCurrent) {
		// A concurrent finishSecret, which checks the same things first,
		// made the version current: there is nothing left to test.
		log.InfoContext(ctx, "sp_key_rotation_step_skipped", "reason", reasonCurrentElsewhere)
		return nil
	}
	if err != nil {
		return err
	}
	log.InfoContext(ctx, "sp_key_rotation_tested", "current_kid", pending.Current.Kid)
	return nil
}

// checkPending reads the pending set and checks that it can go into
// service (see validate). It returns errAlreadyCurrent if the token's
// version is, or became while it read, AWSCURRENT: then the set it would
// compare the pending one with is the pending set itself, and a concurrent
// finishSecret has already done the checks and the move.
func (r *Rotator) checkPending(ctx context.Context, ev Event) (*keys.Set, error) {
	pending, err := r.readPending(ctx, ev)
	if err != nil {
		return nil, err
	}
	current, currentID, err := r.readCurrent(ctx, ev.SecretID)
	if err != nil {
		return nil, err
	}
	if currentID == ev.ClientRequestToken {
		return nil, errAlreadyCurrent
	}
	if err := r.validate(pending, current); err != nil {
		return nil, err
	}
	return pending, nil
}

// validate checks that pending can replace current (nil: nothing to
// replace): it parses strictly, every certificate is valid now, the current
// key signs a message its certificate verifies, and it is a rotation of
// current (its previous key is the current key, and its current key is the
// next key that metadata has been publishing, so IdPs already have it).
func (r *Rotator) validate(pending, current *keys.Set) error {
	if err := pending.Check(r.opts.Now(), r.opts.Rand); err != nil {
		return fmt.Errorf("%w: %w", ErrTestFailed, err)
	}
	if current != nil {
		if pending.Previous == nil || pending.Previous.Kid != current.Current.Kid {
			return fmt.Errorf("%w: its previous key is not the current key %s: it is not a rotation of the current version", ErrTestFailed, current.Current.Kid)
		}
		if current.Next != nil && pending.Current.Kid != current.Next.Kid {
			return fmt.Errorf("%w: its current key is not the published next key %s", ErrTestFailed, current.Next.Kid)
		}
	}
	return nil
}

// finishSecret moves AWSCURRENT to the token (Secrets Manager gives the old
// version AWSPREVIOUS), then completes the rotation. It repeats testSecret's
// checks first, so a version that testSecret would reject can never become
// current, even if someone invokes finishSecret by hand.
//
// The move names the version it takes AWSCURRENT from, so of concurrent
// invocations only the first succeeds; the service refuses the others
// because the label is no longer there. Whatever the error, the labels
// decide: if the token holds AWSCURRENT now (moved by another invocation
// after the same checks, or by this one with the answer lost), the step
// goes on to complete, which elects one announcer.
func (r *Rotator) finishSecret(ctx context.Context, log *slog.Logger, ev Event, versions map[string][]string) error {
	pending, err := r.checkPending(ctx, ev)
	if errors.Is(err, errAlreadyCurrent) {
		return r.complete(ctx, log, ev, nil)
	}
	if err != nil {
		return err
	}
	r.warnLateFinish(ctx, log, pending)
	in := &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:        aws.String(ev.SecretID),
		VersionStage:    aws.String(stageCurrent),
		MoveToVersionId: aws.String(ev.ClientRequestToken),
	}
	for id, stages := range versions {
		if slices.Contains(stages, stageCurrent) {
			in.RemoveFromVersionId = aws.String(id)
		}
	}
	if _, err := r.api.UpdateSecretVersionStage(ctx, in); err != nil {
		stages, serr := r.stagesOf(ctx, ev)
		if serr != nil || !slices.Contains(stages, stageCurrent) {
			return fmt.Errorf("move AWSCURRENT: %w", err)
		}
		log.InfoContext(ctx, "sp_key_rotation_current_moved", "reason", "the move failed but the version holds AWSCURRENT", "err", err)
	}
	return r.complete(ctx, log, ev, pending)
}

// warnLateFinish logs when the pending set's current key was recorded as
// current (at createSecret) longer than keys.DefaultRetireMargin before it
// really becomes current (now). Versions are immutable, so the time cannot
// be corrected here; the previous key then retires that much early, and
// session tokens it signed in that window may be refused before they
// expire. That costs a login, not safety, but an admin should know why.
func (r *Rotator) warnLateFinish(ctx context.Context, log *slog.Logger, pending *keys.Set) {
	since := pending.Current.CurrentSince
	if since.IsZero() {
		return
	}
	if gap := r.opts.Now().Sub(since); gap > keys.DefaultRetireMargin {
		log.WarnContext(ctx, "sp_key_rotation_late_finish",
			"current_since", since.UTC().Format(time.RFC3339), "gap", gap.Round(time.Second).String(),
			"action", "the previous key retires this much early; agents whose sessions it signed may have to sign in again")
	}
}
