package rotate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/samlflex/samlflex/internal/keys"
)

// complete ends a rotation whose version holds AWSCURRENT: it clears
// AWSPENDING from that version and, if this invocation is the one that
// cleared it, announces the rotation ("sp_key_rotated" and the
// SPKeyRotations metric). Secrets Manager documents both AWSPENDING on the
// AWSCURRENT version and on no version as a completed rotation.
//
// AWSPENDING left on the current version marks a rotation that has not
// been announced: finishSecret moved AWSCURRENT and then failed or died, and
// any later finishSecret with the token completes it (Handle). Because the
// label can be removed from the version only once (the service refuses a
// RemoveFromVersionId that does not hold it), removing it elects exactly one
// announcer among any number of concurrent invocations, the one that
// moved AWSCURRENT and those that found it moved alike. Announcing before
// the removal instead would announce once per invocation that got that far.
//
// The removal is sent once, without SDK retries: a retry of a removal whose
// answer was lost would be refused like a competitor's, and this invocation
// would wrongly leave the announcement to someone else. An error is then
// judged by the labels (see clearPending). The result, per rotation:
//   - exactly one announcement, whatever the concurrency;
//   - none if the process dies between the removal and the log line (no I/O
//     in between);
//   - two if the removal's outcome is unknown (5xx, timeout) and either
//     another invocation removed the label in that moment, or the labels
//     cannot be read afterwards and the removal had not happened (this
//     invocation announces and fails; the retry removes and announces).
//
// A missing announcement is the worse error, since an alarm fires when
// SPKeyRotations is missing, so an unknown outcome counts as ours.
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
	won, err := r.clearPending(ctx, log, ev)
	if won {
		r.announce(ctx, log, ev, set)
	}
	return err
}

// clearPending removes AWSPENDING from the token's version. won reports
// whether this invocation removed it (or may have: an unknown outcome with
// the label gone); err is non-nil when Secrets Manager should invoke the
// step again.
func (r *Rotator) clearPending(ctx context.Context, log *slog.Logger, ev Event) (won bool, err error) {
	_, err = r.api.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:            aws.String(ev.SecretID),
		VersionStage:        aws.String(stagePending),
		RemoveFromVersionId: aws.String(ev.ClientRequestToken),
	}, func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 })
	if err == nil {
		return true, nil
	}
	stages, serr := r.stagesOf(ctx, ev)
	switch {
	case serr == nil && slices.Contains(stages, stagePending):
		// Not removed: the next invocation will try again.
		return false, fmt.Errorf("clear AWSPENDING: %w", err)
	case refused(err) && serr == nil:
		// Refused, and the label is gone: another invocation removed it and
		// announces.
		log.InfoContext(ctx, "sp_key_rotation_step_skipped", "reason", reasonCompleteElsewhere)
		return false, nil
	case refused(err):
		return false, fmt.Errorf("clear AWSPENDING: %w; reading the labels: %w", err, serr)
	case serr != nil:
		return true, fmt.Errorf("clear AWSPENDING (outcome unknown, announced): %w; reading the labels: %w", err, serr)
	}
	// Unknown outcome and the label is gone: most likely this removal was
	// applied and its answer lost.
	log.InfoContext(ctx, "sp_key_rotation_pending_cleared", "reason", "the removal's answer was lost but the label is gone", "err", err)
	return true, nil
}

// refused reports whether the service answered err without applying the
// request: a client fault (such as InvalidParameterException for a label
// that is not on the version) or throttling. Server faults, timeouts and
// broken connections leave the outcome unknown.
func refused(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.ErrorFault() == smithy.FaultClient || ae.ErrorCode() == "ThrottlingException"
}

// stagesOf returns the token's staging labels as they are now.
func (r *Rotator) stagesOf(ctx context.Context, ev Event) ([]string, error) {
	desc, err := r.api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(ev.SecretID)})
	if err != nil {
		return nil, fmt.Errorf("describe secret: %w", err)
	}
	return desc.VersionIdsToStages[ev.ClientRequestToken], nil
}
