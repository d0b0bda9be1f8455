package rotate

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/samlflex/samlflex/internal/emf"
	"github.com/samlflex/samlflex/internal/keys"
)

// Metric names, in namespace "samlflex". Alarms: SPKeyRotationFailures > 0,
// and SPKeyRotations missing for longer than the rotation period.
const (
	metricRotations = "SPKeyRotations"
	metricFailures  = "SPKeyRotationFailures"
)

// announce logs "sp_key_rotated" and writes the SPKeyRotations metric.
// Only complete calls it, once per rotation (see there for the bounds).
//
// The log names both certificates by SHA-256 fingerprint because that is
// what an admin compares: after this rotation the new current key signs our
// AuthnRequests, so an IdP that verifies request signatures (Salesforce's
// "Verify Request Signatures") needs its certificate, and the new next
// certificate is the one to upload before the following rotation.
func (r *Rotator) announce(ctx context.Context, log *slog.Logger, ev Event, set *keys.Set) {
	attrs := []any{
		"current_kid", set.Current.Kid,
		"current_cert_sha256", keys.Fingerprint(set.Current.Certificate),
	}
	action := fmt.Sprintf("SAML requests are now signed with the certificate whose SHA-256 fingerprint is %s. "+
		"Admins who turned on \"Verify Request Signatures\" in Salesforce must upload the new certificate from the SP metadata",
		keys.Fingerprint(set.Current.Certificate))
	if set.Next != nil {
		fp := keys.Fingerprint(set.Next.Certificate)
		attrs = append(attrs,
			"next_kid", set.Next.Kid,
			"next_cert_sha256", fp,
			"next_cert_not_after", set.Next.Certificate.NotAfter.UTC().Format(time.RFC3339))
		action += fmt.Sprintf("; the new next certificate (SHA-256 fingerprint %s) takes over at the next rotation", fp)
	}
	attrs = append(attrs, "action", action+".")
	log.InfoContext(ctx, "sp_key_rotated", attrs...)
	if err := emf.Write(r.opts.EMF, r.opts.Now(), nil, []emf.Metric{{Name: metricRotations, Unit: "Count", Value: 1}}, map[string]any{
		"SecretId":   ev.SecretID,
		"CurrentKid": set.Current.Kid,
	}); err != nil {
		log.ErrorContext(ctx, "emf_write_failed", "err", err)
	}
}

func (r *Rotator) emitFailure(ev Event) error {
	return emf.Write(r.opts.EMF, r.opts.Now(), nil, []emf.Metric{{Name: metricFailures, Unit: "Count", Value: 1}}, map[string]any{
		"SecretId": ev.SecretID,
		"Step":     ev.Step,
	})
}
