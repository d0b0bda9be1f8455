package rotate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/samlflex/samlflex/internal/keys"
)

// errAlreadyCurrent: the token's version became AWSCURRENT while the step
// ran, because a concurrent finishSecret moved it. Steps turn it into
// success (or, in finishSecret, into completing the rotation); it never
// leaves Handle.
var errAlreadyCurrent = errors.New("rotate: version became AWSCURRENT during the step")

// readCurrent returns the AWSCURRENT set and its version ID, or a nil set
// if the secret has no current value (or an empty one, or the "{}"
// placeholder). A current value that does not parse is an error: rotating
// it would throw away a key set someone must look at.
func (r *Rotator) readCurrent(ctx context.Context, secretID string) (*keys.Set, string, error) {
	out, err := r.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId:     aws.String(secretID),
		VersionStage: aws.String(stageCurrent),
	})
	if isNotFound(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read current version: %w", err)
	}
	id := aws.ToString(out.VersionId)
	raw := strings.TrimSpace(aws.ToString(out.SecretString))
	if raw == "" || raw == "{}" {
		return nil, id, nil
	}
	set, err := keys.ParseSet([]byte(raw))
	if err != nil {
		return nil, id, fmt.Errorf("current version: %w", err)
	}
	return set, id, nil
}

// readPending returns the token's set. It reads the version by ID alone
// and checks its labels itself, so that a version a concurrent invocation
// has meanwhile made AWSCURRENT (and perhaps cleared of AWSPENDING) is
// reported as errAlreadyCurrent, not as missing.
func (r *Rotator) readPending(ctx context.Context, ev Event) (*keys.Set, error) {
	out, err := r.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId:  aws.String(ev.SecretID),
		VersionId: aws.String(ev.ClientRequestToken),
	})
	if err != nil {
		return nil, fmt.Errorf("read pending version (did createSecret run?): %w", err)
	}
	switch {
	case slices.Contains(out.VersionStages, stageCurrent):
		return nil, errAlreadyCurrent
	case !slices.Contains(out.VersionStages, stagePending):
		return nil, fmt.Errorf("%w: version %s is staged %s, not AWSPENDING", ErrNotPending, ev.ClientRequestToken, strings.Join(out.VersionStages, ","))
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

// keyID is p's key ID for logs, "" for a missing slot.
func keyID(p *keys.Pair) string {
	if p == nil {
		return ""
	}
	return p.Kid
}
