package certwatch_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/certwatch"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// certExpiringAt returns a PEM certificate whose NotAfter is notAfter.
func certExpiringAt(t *testing.T, cn string, notAfter time.Time) string {
	t.Helper()
	issued := notAfter.Add(-400 * day)
	p, err := keys.Generate(keys.P256, issued, notAfter.Sub(issued), cn, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Certificate.Raw}))
}

func sid(n byte) string { return "AC" + strings.Repeat(string(rune('0'+n)), 32) }

func TestScanThresholds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		expiresIn    time.Duration
		wantDaysLeft int
		wantExpiring bool
		wantExpired  bool
	}{
		{"31 days", 31 * day, 31, false, false},
		{"30 days and 12 hours: still 30 whole days", 30*day + 12*time.Hour, 30, true, false},
		{"30 days", 30 * day, 30, true, false},
		{"29 days", 29 * day, 29, true, false},
		{"last day", 6 * time.Hour, 0, true, false},
		{"expired an hour ago", -time.Hour, -1, true, true},
		{"expired 10 days ago", -10 * day, -10, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			notAfter := testNow.Add(tt.expiresIn)
			accounts := []samlflex.Account{{AccountSID: sid(1), FriendlyName: "Salesforce", IdPCertificates: []string{certExpiringAt(t, "SelfSignedCert_01Mar2026", notAfter)}}}
			got := certwatch.Scan(accounts, testNow, 30*day)
			if len(got) != 1 {
				t.Fatalf("%d findings, want 1", len(got))
			}
			f := got[0]
			if f.Err != nil {
				t.Fatal(f.Err)
			}
			if f.DaysLeft != tt.wantDaysLeft || f.Expiring != tt.wantExpiring || f.Expired() != tt.wantExpired {
				t.Errorf("DaysLeft=%d Expiring=%v Expired=%v, want %d %v %v", f.DaysLeft, f.Expiring, f.Expired(), tt.wantDaysLeft, tt.wantExpiring, tt.wantExpired)
			}
			if f.AccountSID != sid(1) || f.FriendlyName != "Salesforce" || f.Index != 0 ||
				f.SubjectCN != "SelfSignedCert_01Mar2026" || !f.NotAfter.Equal(notAfter) || len(f.Fingerprint) != 95 {
				t.Errorf("finding = %+v", f)
			}
		})
	}
}

func TestScanAccountsAndUnreadable(t *testing.T) {
	t.Parallel()
	accounts := []samlflex.Account{
		{AccountSID: sid(1), FriendlyName: "A", IdPCertificates: []string{
			certExpiringAt(t, "a-old", testNow.Add(5*day)),
			certExpiringAt(t, "a-new", testNow.Add(700*day)),
		}},
		{AccountSID: sid(2), FriendlyName: "B", IdPCertificates: []string{"-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----"}},
		{AccountSID: sid(3), FriendlyName: "C"},
	}
	got := certwatch.Scan(accounts, testNow, 0) // 0: the 30-day default
	if len(got) != 3 {
		t.Fatalf("%d findings, want 3 (one per certificate)", len(got))
	}
	if got[0].SubjectCN != "a-old" || !got[0].Expiring || got[1].SubjectCN != "a-new" || got[1].Expiring || got[1].Index != 1 {
		t.Errorf("account A findings = %+v / %+v", got[0], got[1])
	}
	if got[2].AccountSID != sid(2) || got[2].Err == nil {
		t.Errorf("unreadable certificate finding = %+v", got[2])
	}
}

// emfDocs splits EMF output into documents, checking each against the
// specification's shape, and indexes them by metric name.
func emfDocs(t *testing.T, out string) map[string][]map[string]any {
	t.Helper()
	docs := map[string][]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("EMF line is not one JSON object: %q", line)
		}
		meta := doc["_aws"].(map[string]any)
		if ts, ok := meta["Timestamp"].(float64); !ok || int64(ts) != testNow.UnixMilli() {
			t.Errorf("Timestamp = %v, want %d ms", meta["Timestamp"], testNow.UnixMilli())
		}
		directives := meta["CloudWatchMetrics"].([]any)
		if len(directives) != 1 {
			t.Fatalf("want one directive, got %v", directives)
		}
		d := directives[0].(map[string]any)
		if d["Namespace"] != "samlflex" {
			t.Errorf("Namespace = %v", d["Namespace"])
		}
		for _, set := range d["Dimensions"].([]any) {
			for _, k := range set.([]any) {
				if _, ok := doc[k.(string)].(string); !ok {
					t.Errorf("dimension %v has no string value at the root", k)
				}
			}
		}
		for _, m := range d["Metrics"].([]any) {
			def := m.(map[string]any)
			name := def["Name"].(string)
			if _, ok := doc[name].(float64); !ok {
				t.Errorf("metric %s has no numeric value at the root", name)
			}
			docs[name] = append(docs[name], doc)
		}
	}
	return docs
}

func dimensions(doc map[string]any) []any {
	return doc["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Dimensions"].([]any)
}

func unit(doc map[string]any) any {
	return doc["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Metrics"].([]any)[0].(map[string]any)["Unit"]
}

func logEvents(t *testing.T, out, msg string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if ev["msg"] == msg {
			evs = append(evs, ev)
		}
	}
	return evs
}

func TestReport(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		expiresIn    []time.Duration // one account per entry
		wantExpiring []float64       // DaysLeft of the per-account metrics
		wantMin      float64
	}{
		{"nothing expiring: only the minimum", []time.Duration{31 * day, 400 * day}, nil, 31},
		{"one expiring", []time.Duration{29 * day, 400 * day}, []float64{29}, 29},
		{"expired and expiring", []time.Duration{-3 * day, 30 * day, 90 * day}, []float64{-3, 30}, -3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var accounts []samlflex.Account
			for i, d := range tt.expiresIn {
				accounts = append(accounts, samlflex.Account{
					AccountSID: sid(byte(i + 1)), FriendlyName: "Salesforce",
					IdPCertificates: []string{certExpiringAt(t, "idp", testNow.Add(d))},
				})
			}
			var logs, emf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, nil))
			findings := certwatch.Scan(accounts, testNow, 30*day)
			if err := certwatch.Report(context.Background(), findings, testNow, logger, &emf); err != nil {
				t.Fatal(err)
			}
			docs := emfDocs(t, emf.String())

			per := docs["IdPCertificateDaysToExpiry"]
			if len(per) != len(tt.wantExpiring) {
				t.Fatalf("%d per-account metrics, want %d", len(per), len(tt.wantExpiring))
			}
			for i, doc := range per {
				if doc["IdPCertificateDaysToExpiry"] != tt.wantExpiring[i] {
					t.Errorf("metric %d = %v, want %v", i, doc["IdPCertificateDaysToExpiry"], tt.wantExpiring[i])
				}
				if dims := dimensions(doc); len(dims) != 1 || len(dims[0].([]any)) != 1 || dims[0].([]any)[0] != "AccountSid" {
					t.Errorf("Dimensions = %v, want [[AccountSid]]", dims)
				}
				if !strings.HasPrefix(doc["AccountSid"].(string), "AC") || unit(doc) != "None" {
					t.Errorf("doc = %v", doc)
				}
			}
			mins := docs["MinIdPCertificateDaysToExpiry"]
			if len(mins) != 1 || mins[0]["MinIdPCertificateDaysToExpiry"] != tt.wantMin {
				t.Fatalf("minimum metric = %v, want one with %v", mins, tt.wantMin)
			}
			if dims := dimensions(mins[0]); len(dims) != 1 || len(dims[0].([]any)) != 0 {
				t.Errorf("minimum metric Dimensions = %v, want [[]] (no dimensions)", dims)
			}

			warns := logEvents(t, logs.String(), "idp_certificate_expiring")
			if len(warns) != len(tt.wantExpiring) {
				t.Fatalf("%d idp_certificate_expiring events, want %d", len(warns), len(tt.wantExpiring))
			}
			for i, ev := range warns {
				if ev["level"] != "WARN" || ev["days_left"] != tt.wantExpiring[i] || ev["cert_sha256"] != findings[i].Fingerprint ||
					ev["account_sid"] != findings[i].AccountSID || ev["expired"] != (tt.wantExpiring[i] < 0) {
					t.Errorf("event %d = %v", i, ev)
				}
			}
		})
	}
}

func TestReportUnreadableAndEmpty(t *testing.T) {
	t.Parallel()
	var logs, emf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	findings := certwatch.Scan([]samlflex.Account{{AccountSID: sid(1), IdPCertificates: []string{"not a certificate"}}}, testNow, 0)
	if err := certwatch.Report(context.Background(), findings, testNow, logger, &emf); err != nil {
		t.Fatal(err)
	}
	if emf.Len() != 0 {
		t.Errorf("EMF written without a readable certificate: %q", emf.String())
	}
	if evs := logEvents(t, logs.String(), "idp_certificate_unreadable"); len(evs) != 1 || evs[0]["level"] != "WARN" {
		t.Errorf("unreadable events = %v", evs)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("stdout closed") }

func TestReportWriteError(t *testing.T) {
	t.Parallel()
	findings := certwatch.Scan([]samlflex.Account{{AccountSID: sid(1), IdPCertificates: []string{certExpiringAt(t, "idp", testNow.Add(day))}}}, testNow, 0)
	if err := certwatch.Report(context.Background(), findings, testNow, nil, failingWriter{}); err == nil {
		t.Fatal("Report hid an EMF write error")
	}
}
