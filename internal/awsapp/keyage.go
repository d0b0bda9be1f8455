package awsapp

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/samlflex/samlflex/internal/emf"
	"github.com/samlflex/samlflex/internal/rotate"
)

// MetricKeySetAgeDays is the EMF metric (namespace emf.Namespace, no
// dimensions) with the age in days of the SP key set's AWSCURRENT version.
// The stack's KeyRotationOverdue alarm (infra/alarms.go, same name) fires
// when it exceeds the rotation period plus a margin. Renaming it silently
// disables that alarm.
const MetricKeySetAgeDays = "SPKeySetAgeDays"

// ReportKeySetAge writes the age of the current SP key set as an EMF line
// and a log line. It exists because a rotation that never starts writes no
// failure metric: if Secrets Manager cannot invoke the rotate function
// (a deleted permission, a disabled schedule), SPKeyRotationFailures
// stays at zero while the keys grow old. The age of the AWSCURRENT
// version is what every successful rotation resets, whatever went wrong
// before it; the placeholder that the stack creates counts from the
// deploy, so a first rotation that never ran shows too.
//
// It reads the version with GetSecretValue (the only read of a version's
// creation date among the actions rotate is granted; DescribeSecret has no
// per-version dates) and keeps nothing of the value.
func ReportKeySetAge(ctx context.Context, sm rotate.SecretsAPI, secretID string, now time.Time, logger *slog.Logger, metrics io.Writer) error {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId:     aws.String(secretID),
		VersionStage: aws.String("AWSCURRENT"),
	})
	if err != nil {
		return fmt.Errorf("rotate function: reading the current SP key set: %w", err)
	}
	if out.CreatedDate == nil {
		return fmt.Errorf("rotate function: the current SP key set version %s has no creation date", aws.ToString(out.VersionId))
	}
	created := out.CreatedDate.UTC()
	days := now.Sub(created).Hours() / 24
	logger.InfoContext(ctx, "sp_key_set_age", "version_id", aws.ToString(out.VersionId),
		"created", created.Format(time.RFC3339), "age_days", days)
	if err := emf.Write(metrics, now, nil, []emf.Metric{{Name: MetricKeySetAgeDays, Unit: "None", Value: days}}, nil); err != nil {
		return fmt.Errorf("rotate function: writing %s: %w", MetricKeySetAgeDays, err)
	}
	return nil
}
