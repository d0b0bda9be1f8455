package rotate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/samlflex/samlflex/internal/keys"
)

// createSecret stores the rotated key set as the AWSPENDING version with
// the token as its ID. If that version already has a value (a re-run after
// a failure anywhere later), it does nothing: generating again would
// replace keys that an earlier attempt may already have logged.
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

	current, err := r.readCurrent(ctx, ev.SecretID)
	if err != nil {
		return err
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
		pending = &keys.Set{Current: cur, Next: next}
		log.InfoContext(ctx, "sp_keys_seeding", "reason", "the secret has no current key set")
	} else {
		newNext, err := r.generate()
		if err != nil {
			return err
		}
		pending = current.Rotate(newNext)
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
		return fmt.Errorf("put pending version: %w", err)
	}
	log.InfoContext(ctx, "sp_key_rotation_pending_created",
		"current_kid", pending.Current.Kid, "next_kid", pending.Next.Kid)
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
	if err != nil {
		return err
	}
	log.InfoContext(ctx, "sp_key_rotation_tested", "current_kid", pending.Current.Kid)
	return nil
}

// checkPending reads the pending set and checks that it can go into
// service: it parses strictly, every certificate is valid now, the current
// key signs a message its certificate verifies, and it is a rotation of the
// current version (its previous key is the current key, and its current key
// is the next key that metadata has been publishing, so IdPs already have
// it).
func (r *Rotator) checkPending(ctx context.Context, ev Event) (*keys.Set, error) {
	pending, err := r.readPending(ctx, ev)
	if err != nil {
		return nil, err
	}
	if err := pending.Check(r.opts.Now(), r.opts.Rand); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTestFailed, err)
	}
	current, err := r.readCurrent(ctx, ev.SecretID)
	if err != nil {
		return nil, err
	}
	if current != nil {
		if pending.Previous == nil || pending.Previous.Kid != current.Current.Kid {
			return nil, fmt.Errorf("%w: its previous key is not the current key %s: it is not a rotation of the current version", ErrTestFailed, current.Current.Kid)
		}
		if current.Next != nil && pending.Current.Kid != current.Next.Kid {
			return nil, fmt.Errorf("%w: its current key is not the published next key %s", ErrTestFailed, current.Next.Kid)
		}
	}
	return pending, nil
}

// finishSecret moves AWSCURRENT to the token (Secrets Manager gives the old
// version AWSPREVIOUS), then completes the rotation. It repeats testSecret's
// checks first, so a version that testSecret would reject can never become
// current, even if someone invokes finishSecret by hand.
func (r *Rotator) finishSecret(ctx context.Context, log *slog.Logger, ev Event, versions map[string][]string) error {
	pending, err := r.checkPending(ctx, ev)
	if err != nil {
		return err
	}
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
		return fmt.Errorf("move AWSCURRENT: %w", err)
	}
	return r.complete(ctx, log, ev, pending)
}

// complete announces the rotation and then clears AWSPENDING from the new
// current version. AWSPENDING left on the current version is how a re-run
// knows the announcement may not have happened: the event and metric are
// emitted once per rotation, or at worst twice if this process dies between
// the two. (Secrets Manager documents both AWSPENDING on the AWSCURRENT
// version and on no version as a completed rotation.)
func (r *Rotator) complete(ctx context.Context, log *slog.Logger, ev Event, set *keys.Set) error {
	if set == nil {
		out, err := r.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
			SecretId:  aws.String(ev.SecretID),
			VersionId: aws.String(ev.ClientRequestToken),
		})
		if err != nil {
			return fmt.Errorf("read new current version: %w", err)
		}
		if set, err = keys.ParseSet([]byte(aws.ToString(out.SecretString))); err != nil {
			return fmt.Errorf("new current version: %w", err)
		}
	}
	r.announce(ctx, log, ev, set)
	if _, err := r.api.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:            aws.String(ev.SecretID),
		VersionStage:        aws.String(stagePending),
		RemoveFromVersionId: aws.String(ev.ClientRequestToken),
	}); err != nil {
		return fmt.Errorf("clear AWSPENDING: %w", err)
	}
	return nil
}

// readCurrent returns the AWSCURRENT set, or nil if the secret has no
// current value (or an empty one, or the "{}" placeholder). A current value
// that does not parse is an error: rotating it would throw away a key set
// someone must look at.
func (r *Rotator) readCurrent(ctx context.Context, secretID string) (*keys.Set, error) {
	out, err := r.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId:     aws.String(secretID),
		VersionStage: aws.String(stageCurrent),
	})
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read current version: %w", err)
	}
	raw := strings.TrimSpace(aws.ToString(out.SecretString))
	if raw == "" || raw == "{}" {
		return nil, nil
	}
	set, err := keys.ParseSet([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("current version: %w", err)
	}
	return set, nil
}

func (r *Rotator) readPending(ctx context.Context, ev Event) (*keys.Set, error) {
	out, err := r.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId:     aws.String(ev.SecretID),
		VersionId:    aws.String(ev.ClientRequestToken),
		VersionStage: aws.String(stagePending),
	})
	if err != nil {
		return nil, fmt.Errorf("read pending version (did createSecret run?): %w", err)
	}
	set, err := keys.ParseSet([]byte(aws.ToString(out.SecretString)))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTestFailed, err)
	}
	return set, nil
}

func (r *Rotator) generate() (*keys.Pair, error) {
	return keys.Generate(r.opts.Algorithm, r.opts.Now(), r.opts.Validity, r.opts.CommonName, r.opts.Rand)
}

func isNotFound(err error) bool {
	var rnf *types.ResourceNotFoundException
	return errors.As(err, &rnf)
}
