package doctor

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretsAPI is the one Secrets Manager call doctor makes (read-only).
type SecretsAPI interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
}

// rotationGrace is how late a rotation may be before doctor fails: Secrets
// Manager starts a scheduled rotation within its window, not on the dot.
const rotationGrace = 2 * 24 * time.Hour

// checkRotation reads the key secret's rotation state. A rotation that
// silently stopped (Secrets Manager cannot invoke the rotate function, or
// a step keeps failing) leaves the SP certificate to expire; by then every
// IdP that checks request signatures or reads metadata breaks.
func (d *doctor) checkRotation(ctx context.Context) {
	const check = "rotation"
	if d.cfg.Secrets == nil || d.cfg.KeysSecretID == "" {
		d.skip(check, "no --secret-id or --stack: the rotation is not checked")
		return
	}
	f := Finding{Check: check, Expected: "rotation enabled, last rotated within its period"}
	out, err := d.cfg.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(d.cfg.KeysSecretID)})
	if err != nil {
		f.Status, f.Seen = StatusFail, "DescribeSecret failed: "+err.Error()
		f.Fix = "check the AWS credentials and --region, the secret id (the stack output KeysSecretArn), and that you may call secretsmanager:DescribeSecret on it"
		d.add(f)
		return
	}
	name := aws.ToString(out.Name)
	if !aws.ToBool(out.RotationEnabled) {
		f.Status, f.Seen = StatusFail, "rotation is disabled on "+name
		f.Fix = "redeploy the stack (it configures the rotation with the rotate function), or re-enable it with aws secretsmanager rotate-secret --secret-id " + name + " --rotation-lambda-arn <rotate function> --rotation-rules AutomaticallyAfterDays=<keyRotationDays>"
		d.add(f)
		return
	}
	var period time.Duration
	if out.RotationRules != nil && out.RotationRules.AutomaticallyAfterDays != nil {
		period = time.Duration(*out.RotationRules.AutomaticallyAfterDays) * 24 * time.Hour
	}
	if out.LastRotatedDate == nil {
		f.Status, f.Seen = StatusFail, "rotation is enabled but "+name+" has never rotated"
		f.Fix = "the rotation at deploy should have seeded the key set: read the rotate function's logs (createSecret ... finishSecret) and run aws secretsmanager rotate-secret --secret-id " + name
		d.add(f)
		return
	}
	age := d.now().Sub(*out.LastRotatedDate)
	f.Seen = fmt.Sprintf("rotation enabled, last rotated %s (%s ago)", out.LastRotatedDate.UTC().Format(time.RFC3339), days(age))
	switch {
	case period > 0:
		f.Seen += ", every " + days(period)
	case out.RotationRules != nil && out.RotationRules.ScheduleExpression != nil:
		f.Seen += ", schedule " + aws.ToString(out.RotationRules.ScheduleExpression)
	default:
		f.Seen += ", no rotation rules"
	}
	pending := stuckPending(out.VersionIdsToStages)
	switch {
	case period > 0 && age > period+rotationGrace:
		f.Status = StatusFail
		f.Fix = "rotation is overdue: Secrets Manager cannot invoke the rotate function or a step fails; read the rotate function's logs and the secret's rotation status, then run aws secretsmanager rotate-secret --secret-id " + name
	case pending:
		f.Status, f.Seen = StatusWarn, f.Seen+"; a version is labelled AWSPENDING only (a rotation is running or stuck)"
		f.Fix = "if this stays, a rotation step failed: read the rotate function's logs; the next rotate-secret retries it"
	default:
		f.Status = StatusOK
	}
	d.add(f)
}

// stuckPending reports a version labelled AWSPENDING but not AWSCURRENT.
func stuckPending(stages map[string][]string) bool {
	for _, s := range stages {
		if slices.Contains(s, "AWSPENDING") && !slices.Contains(s, "AWSCURRENT") {
			return true
		}
	}
	return false
}
