package samlflex

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestIdPInitiatedMode: the new setting wins; accounts stored with only
// the older allow_idp_initiated keep App Launcher logins working through
// the bounce, never through direct acceptance.
func TestIdPInitiatedMode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		json        string
		want        IdPInitiatedMode
		wantAllowed bool
	}{
		{"default", `{}`, IdPInitiatedBounce, true},
		{"old true", `{"allow_idp_initiated":true}`, IdPInitiatedBounce, true},
		{"old false", `{"allow_idp_initiated":false}`, IdPInitiatedRefuse, false},
		{"accept", `{"idp_initiated":"accept"}`, IdPInitiatedAccept, true},
		{"bounce", `{"idp_initiated":"bounce","allow_idp_initiated":true}`, IdPInitiatedBounce, true},
		{"refuse wins over old true", `{"idp_initiated":"refuse","allow_idp_initiated":true}`, IdPInitiatedRefuse, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var a Account
			if err := json.Unmarshal([]byte(tc.json), &a); err != nil {
				t.Fatal(err)
			}
			if got := a.IdPInitiatedEffective(); got != tc.want || a.IdPInitiatedAllowed() != tc.wantAllowed {
				t.Fatalf("mode %q allowed %v, want %q %v", got, a.IdPInitiatedAllowed(), tc.want, tc.wantAllowed)
			}
		})
	}
}

func TestIdPInitiatedValidate(t *testing.T) {
	t.Parallel()
	off := false
	tests := []struct {
		name    string
		mode    IdPInitiatedMode
		legacy  *bool
		wantErr string
	}{
		{"unknown value", "sometimes", nil, "must be bounce (the default), accept or refuse"},
		{"contradicts the old setting", IdPInitiatedAccept, &off, "is accept but the older allow_idp_initiated is false"},
		{"refuse with the old false", IdPInitiatedRefuse, &off, ""},
		{"accept", IdPInitiatedAccept, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := testAccount(t)
			a.IdPInitiated, a.AllowIdPInitiated = tc.mode, tc.legacy
			err := a.Validate(testNow)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), "idp_initiated: "+tc.wantErr)):
				t.Fatalf("err %v, want idp_initiated: %s", err, tc.wantErr)
			}
		})
	}
}
