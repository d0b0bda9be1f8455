package smkeys

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/samlflex/samlflex/internal/keys"
)

// AdminAPI is what the admin operations (`samlflex keys` on AWS) call. The
// IAM principal running them needs these four actions plus RotateSecret on
// the key secret; the Lambda functions never get them.
type AdminAPI interface {
	API
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
	RotateSecret(ctx context.Context, in *secretsmanager.RotateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error)
}

var _ AdminAPI = (*secretsmanager.Client)(nil)

// Staging labels. StageStaged marks a version an admin operation wrote and
// has not made AWSCURRENT yet; it is removed once AWSCURRENT moves.
const (
	stageCurrent = "AWSCURRENT"
	stagePending = "AWSPENDING"
	StageStaged  = "SAMLFLEX_STAGED"
)

// ErrConcurrentChange: the key set changed between the admin operation's
// read and its write (a rotation finished, or another admin acted). Nothing
// was changed; running the operation again starts from the new set.
var ErrConcurrentChange = errors.New("smkeys: the key set changed while the operation ran")

// Admin changes the key secret outside the rotation schedule. Its writes
// follow the rotation function's rules: the new value is a whole key set,
// written as a new version, and AWSCURRENT moves to it only from the
// version that was read, so a concurrent rotation is never overwritten.
type Admin struct {
	api      AdminAPI
	secretID string
	now      func() time.Time
	rand     io.Reader
}

// NewAdmin returns an Admin for secretID. now and rnd may be nil.
func NewAdmin(api AdminAPI, secretID string, now func() time.Time, rnd io.Reader) (*Admin, error) {
	if api == nil || secretID == "" {
		return nil, errors.New("smkeys: admin needs a client and a secret ID")
	}
	if now == nil {
		now = time.Now
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	return &Admin{api: api, secretID: secretID, now: now, rand: rnd}, nil
}

// Change is the outcome of an admin write.
type Change struct {
	Set *keys.Set
	// VersionID is the new AWSCURRENT version.
	VersionID string
	// CancelledRotation is the ID of an unfinished rotation's AWSPENDING
	// version whose label the write removed ("" if none): that rotation was
	// computed from the replaced set.
	CancelledRotation string
}

// Stored returns the AWSCURRENT set, retired keys included, and its
// version ID.
func (a *Admin) Stored(ctx context.Context) (*keys.Set, string, error) {
	out, err := a.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(a.secretID), VersionStage: aws.String(stageCurrent),
	})
	if err != nil {
		if isNotFound(err) {
			return nil, "", fmt.Errorf("smkeys: secret %s has no current key set: %w", a.secretID, keys.ErrNoKeys)
		}
		return nil, "", unavailable(a.secretID, "read", err)
	}
	raw := strings.TrimSpace(aws.ToString(out.SecretString))
	if raw == "" || raw == "{}" {
		return nil, "", fmt.Errorf("smkeys: secret %s has no current key set: %w", a.secretID, keys.ErrNoKeys)
	}
	set, err := keys.ParseSet([]byte(raw))
	if err != nil {
		return nil, "", fmt.Errorf("smkeys: secret %s: %w", a.secretID, err)
	}
	return set, aws.ToString(out.VersionId), nil
}

// RotateNow writes keys.Set.RotateNow of the current set as the new
// AWSCURRENT version. The rotation function is not involved: it would
// promote the next key, which lives in the same secret as the leaked one.
func (a *Admin) RotateNow(ctx context.Context, retirePrevious bool) (*Change, error) {
	return a.update(ctx, func(s *keys.Set) (*keys.Set, error) {
		c, err := a.newPair()
		if err != nil {
			return nil, err
		}
		n, err := a.newPair()
		if err != nil {
			return nil, err
		}
		return s.RotateNow(c, n, a.now(), retirePrevious)
	})
}

// Revoke writes the current set without key kid (keys.Set.Revoke) as the
// new AWSCURRENT version.
func (a *Admin) Revoke(ctx context.Context, kid string) (*Change, error) {
	return a.update(ctx, func(s *keys.Set) (*keys.Set, error) { return s.Revoke(kid, a.newPair) })
}

// StartRotation asks Secrets Manager to run the rotation function now (a
// normal rotation: the next key becomes current). It returns the rotation's
// version ID.
func (a *Admin) StartRotation(ctx context.Context) (string, error) {
	out, err := a.api.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId: aws.String(a.secretID), RotateImmediately: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("smkeys: rotate secret %s: %v", a.secretID, err)
	}
	return aws.ToString(out.VersionId), nil
}

func (a *Admin) newPair() (*keys.Pair, error) {
	return keys.Generate(seedAlgorithm, a.now(), seedValidity, seedCommonName, a.rand)
}

// update writes fn(current set) as a new version and moves AWSCURRENT to it
// from the version read, then removes AWSPENDING from an unfinished
// rotation: that rotation was computed from the replaced set. (The
// rotation function would refuse most such versions anyway, because they
// are no rotation of the new current set; removing the label also keeps a
// stuck rotation from blocking the next one.)
func (a *Admin) update(ctx context.Context, fn func(*keys.Set) (*keys.Set, error)) (*Change, error) {
	cur, curID, err := a.Stored(ctx)
	if err != nil {
		return nil, err
	}
	next, err := fn(cur)
	if err != nil {
		return nil, err
	}
	b, err := keys.MarshalSet(next)
	if err != nil {
		return nil, err
	}
	token, err := newToken(a.rand)
	if err != nil {
		return nil, err
	}
	// Written under a label of its own first: PutSecretValue with
	// AWSCURRENT would take the label from whichever version holds it
	// now, even one a rotation made current after our read.
	if _, err := a.api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(a.secretID), ClientRequestToken: aws.String(token),
		SecretString: aws.String(string(b)), VersionStages: []string{StageStaged},
	}); err != nil {
		return nil, unavailable(a.secretID, "write", err)
	}
	_, moveErr := a.api.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(a.secretID), VersionStage: aws.String(stageCurrent),
		MoveToVersionId: aws.String(token), RemoveFromVersionId: aws.String(curID),
	})
	stages, err := a.stages(ctx)
	if err != nil {
		return nil, err
	}
	if moveErr != nil && !slices.Contains(stages[token], stageCurrent) {
		// Refused (the label is elsewhere) or failed: the staged version
		// carries no meaning; drop its label so nothing mistakes it.
		_, _ = a.api.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String(a.secretID), VersionStage: aws.String(StageStaged), RemoveFromVersionId: aws.String(token),
		})
		if holder := holderOf(stages, stageCurrent); holder != curID {
			return nil, fmt.Errorf("%w (AWSCURRENT moved from version %s to %s)", ErrConcurrentChange, curID, holder)
		}
		return nil, unavailable(a.secretID, "make the new version current", moveErr)
	}
	ch := &Change{Set: next, VersionID: token}
	if _, err := a.api.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(a.secretID), VersionStage: aws.String(StageStaged), RemoveFromVersionId: aws.String(token),
	}); err != nil {
		return ch, fmt.Errorf("smkeys: the new key set is current, but removing the %s label from version %s failed (harmless; remove it by hand): %v", StageStaged, token, err)
	}
	if p := holderOf(stages, stagePending); p != "" && p != token && !slices.Contains(stages[p], stageCurrent) {
		if _, err := a.api.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String(a.secretID), VersionStage: aws.String(stagePending), RemoveFromVersionId: aws.String(p),
		}); err != nil {
			return ch, fmt.Errorf("smkeys: the new key set is current, but cancelling the unfinished rotation %s failed; remove its AWSPENDING label by hand: %v", p, err)
		}
		ch.CancelledRotation = p
	}
	return ch, nil
}

func (a *Admin) stages(ctx context.Context) (map[string][]string, error) {
	out, err := a.api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(a.secretID)})
	if err != nil {
		return nil, unavailable(a.secretID, "describe", err)
	}
	return out.VersionIdsToStages, nil
}

func holderOf(stages map[string][]string, stage string) string {
	for id, st := range stages {
		if slices.Contains(st, stage) {
			return id
		}
	}
	return ""
}

// newToken is a random UUID v4: versions written by admins are never
// derived from anything guessable.
func newToken(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("smkeys: version token: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

func isNotFound(err error) bool {
	var rnf *types.ResourceNotFoundException
	return errors.As(err, &rnf)
}
