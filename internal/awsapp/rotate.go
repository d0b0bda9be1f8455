package awsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/samlflex/samlflex/internal/certwatch"
	"github.com/samlflex/samlflex/internal/config"
	"github.com/samlflex/samlflex/internal/rotate"
	"github.com/samlflex/samlflex/internal/store/dynamostore"
)

// ScanEvent is the EventBridge schedule's input for the daily scan. Anything
// with a Step is a Secrets Manager rotation event instead.
type ScanEvent struct {
	Action string `json:"action"`
}

// ActionScan is ScanEvent.Action for the daily scan: every account's IdP
// certificates, and the age of the SP key set.
const ActionScan = "scan_idp_certificates"

// RotateDeps lets tests hand in clients.
type RotateDeps struct {
	DynamoDB       dynamostore.API
	SecretsManager rotate.SecretsAPI
	EMF            io.Writer
	Now            func() time.Time
}

// CertValidity is how long the certificates of new SP keys are valid for a
// rotation period. A key made at rotation k is published as next until
// k+1, signs until k+2, and stays in the set as previous until k+3;
// testSecret at k+2 refuses a set with an expired certificate, and from
// then on every rotation would fail and never recover. So a certificate
// must outlive three periods, plus slack for a rotation that runs late or
// has stopped (the SPKeySetAgeDays alarm fires one period plus a few days
// after the last rotation): four periods, and never less than
// rotate.DefaultValidity (two years), which short periods keep.
// period <= 0 (not configured) gives rotate.DefaultValidity.
func CertValidity(period time.Duration) time.Duration {
	return max(4*period, rotate.DefaultValidity)
}

// NewRotate returns the rotate function's handler: the four Secrets Manager
// rotation steps, or the daily scan, by the shape of the event.
func NewRotate(cfg config.Config, deps RotateDeps, logger *slog.Logger) (func(context.Context, json.RawMessage) error, error) {
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	period := time.Duration(cfg.KeyRotationDays) * 24 * time.Hour
	r, err := rotate.New(deps.SecretsManager, rotate.Options{Logger: logger, EMF: deps.EMF, Now: now, Validity: CertValidity(period)})
	if err != nil {
		return nil, err
	}
	st := dynamostore.New(deps.DynamoDB, dynamostore.Tables{Accounts: cfg.AccountsTable})
	warn := time.Duration(cfg.CertWarnDays) * 24 * time.Hour
	return func(ctx context.Context, raw json.RawMessage) error {
		var probe struct {
			Step string `json:"Step"`
			ScanEvent
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return fmt.Errorf("rotate function: event is not JSON: %w", err)
		}
		switch {
		case probe.Step != "":
			var ev rotate.Event
			if err := json.Unmarshal(raw, &ev); err != nil {
				return fmt.Errorf("rotate function: rotation event: %w", err)
			}
			return r.Handle(ctx, ev)
		case probe.Action == ActionScan:
			t := now()
			// Both halves run even if one fails; either failure fails
			// the invocation (RotateErrors alarms, EventBridge retries).
			var errs []error
			if err := ReportKeySetAge(ctx, deps.SecretsManager, cfg.KeysSecretID, t, logger, deps.EMF); err != nil {
				errs = append(errs, err)
			}
			accounts, err := st.List(ctx)
			if err != nil {
				errs = append(errs, fmt.Errorf("rotate function: listing accounts: %w", err))
			} else if err := certwatch.Report(ctx, certwatch.Scan(accounts, t, warn), t, logger, deps.EMF); err != nil {
				errs = append(errs, err)
			}
			return errors.Join(errs...)
		default:
			return errors.New("rotate function: unknown event: want a Secrets Manager rotation step or {\"action\":\"" + ActionScan + "\"}")
		}
	}, nil
}
