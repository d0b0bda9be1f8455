package certwatch

import (
	"context"
	"errors"
	"fmt"
	"github.com/samlflex/samlflex/internal/emf"
	"io"
	"log/slog"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// DefaultWarnWithin is how early an expiring certificate is reported: long
// enough for an admin to create a certificate in Salesforce, add it here and
// switch the IdP over, with a reminder every day.
const DefaultWarnWithin = 30 * 24 * time.Hour

const day = 24 * time.Hour

// Metric names, in namespace "samlflex".
const (
	// metricDaysToExpiry is per account (dimension AccountSid), written
	// only for expiring certificates.
	metricDaysToExpiry = "IdPCertificateDaysToExpiry"
	// metricMinDaysToExpiry has no dimensions and is written on every run
	// that saw a certificate, so one alarm (for example < 14) covers all
	// accounts and has data even when nothing is expiring.
	metricMinDaysToExpiry = "MinIdPCertificateDaysToExpiry"
)

// Finding describes one IdP certificate of one account.
type Finding struct {
	AccountSID   string
	FriendlyName string
	// Index is the certificate's position in Account.IdPCertificates.
	Index int
	// SubjectCN is the certificate's subject common name.
	SubjectCN string
	// Fingerprint is the SHA-256 of the certificate, colon-separated hex.
	Fingerprint string
	NotAfter    time.Time
	// DaysLeft is the number of whole days until NotAfter, rounded down:
	// 0 on the last day, negative once expired.
	DaysLeft int
	// Expiring is DaysLeft days within warnWithin (expired included).
	Expiring bool
	// Err is set when the stored certificate cannot be read; only
	// AccountSID, FriendlyName and Index are then meaningful.
	Err error
}

// Expired reports whether the certificate's NotAfter has passed.
func (f Finding) Expired() bool { return f.Err == nil && f.DaysLeft < 0 }

// Scan returns one finding per IdP certificate of every account, in account
// order then certificate order. Every certificate is returned, not only the
// expiring ones, because Report needs the minimum over all of them.
// warnWithin <= 0 means DefaultWarnWithin.
func Scan(accounts []samlflex.Account, now time.Time, warnWithin time.Duration) []Finding {
	if warnWithin <= 0 {
		warnWithin = DefaultWarnWithin
	}
	var out []Finding
	for _, a := range accounts {
		for i, pemText := range a.IdPCertificates {
			f := Finding{AccountSID: a.AccountSID, FriendlyName: a.FriendlyName, Index: i}
			cert, err := samlflex.ParseCertificate(pemText)
			if err != nil {
				f.Err = err
				out = append(out, f)
				continue
			}
			f.SubjectCN = cert.Subject.CommonName
			f.Fingerprint = keys.Fingerprint(cert)
			f.NotAfter = cert.NotAfter
			f.DaysLeft = daysUntil(now, cert.NotAfter)
			// Compare in whole days, so that what the admin reads ("30 days
			// left") and whether they are warned always agree.
			f.Expiring = time.Duration(f.DaysLeft)*day <= warnWithin
			out = append(out, f)
		}
	}
	return out
}

// daysUntil is floor((t-now)/24h); Go's division truncates toward zero,
// which would call a certificate that expired an hour ago "0 days left".
func daysUntil(now, t time.Time) int {
	d := t.Sub(now)
	days := int(d / day)
	if d < 0 && d%day != 0 {
		days--
	}
	return days
}

// Report logs every expiring certificate at Warn ("idp_certificate_expiring")
// and writes its IdPCertificateDaysToExpiry metric (dimension AccountSid),
// logs unreadable certificates at Warn, and writes the account-wide
// MinIdPCertificateDaysToExpiry metric when at least one certificate was
// read. now stamps the metrics. It returns the first EMF write error after
// writing everything it can.
func Report(ctx context.Context, findings []Finding, now time.Time, logger *slog.Logger, metrics io.Writer) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var (
		errs     []error
		minDays  int
		read     int
		expiring int
	)
	for _, f := range findings {
		if f.Err != nil {
			logger.WarnContext(ctx, "idp_certificate_unreadable",
				"account_sid", f.AccountSID, "friendly_name", f.FriendlyName, "cert_index", f.Index, "err", f.Err,
				"action", "replace this IdP certificate in the account settings: it cannot be used to verify logins")
			continue
		}
		if read == 0 || f.DaysLeft < minDays {
			minDays = f.DaysLeft
		}
		read++
		if !f.Expiring {
			continue
		}
		expiring++
		logger.WarnContext(ctx, "idp_certificate_expiring",
			"account_sid", f.AccountSID,
			"friendly_name", f.FriendlyName,
			"cert_index", f.Index,
			"subject_cn", f.SubjectCN,
			"cert_sha256", f.Fingerprint,
			"not_after", f.NotAfter.UTC().Format(time.RFC3339),
			"days_left", f.DaysLeft,
			"expired", f.Expired(),
			"action", expiringAction(f))
		errs = append(errs, emf.Write(metrics, now,
			map[string]string{"AccountSid": f.AccountSID},
			[]emf.Metric{{Name: metricDaysToExpiry, Unit: "None", Value: float64(f.DaysLeft)}},
			map[string]any{
				"FriendlyName": f.FriendlyName,
				"CertIndex":    f.Index,
				"CertSha256":   f.Fingerprint,
				"NotAfter":     f.NotAfter.UTC().Format(time.RFC3339),
			}))
	}
	if read > 0 {
		errs = append(errs, emf.Write(metrics, now, nil,
			[]emf.Metric{{Name: metricMinDaysToExpiry, Unit: "None", Value: float64(minDays)}},
			map[string]any{"Certificates": read}))
	}
	logger.InfoContext(ctx, "idp_certificates_scanned",
		"certificates", len(findings), "expiring", expiring, "min_days_left", minDays)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("certwatch: write metrics: %w", err)
	}
	return nil
}

func expiringAction(f Finding) string {
	if f.Expired() {
		return "this IdP certificate has expired: logins signed with it fail. Download the current certificate from Salesforce (Setup, Identity Provider) and save it in the account settings"
	}
	return fmt.Sprintf("this IdP certificate expires in %d days: create its successor in Salesforce, add it to the account's IdP certificates next to this one (both are trusted during the switch), then switch the Salesforce Identity Provider to it", f.DaysLeft)
}
