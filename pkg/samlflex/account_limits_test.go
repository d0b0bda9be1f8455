package samlflex

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAccountValidateLimits moves one setting of a valid account (with a
// Flex connection) at a time to each edge of its allowed range: the last
// accepted value and the first refused one, so an off-by-one in a bound is
// caught, and optional Flex URLs are checked only when set.
func TestAccountValidateLimits(t *testing.T) {
	t.Parallel()
	const hex32 = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name      string
		edit      func(*Account)
		wantField string // "" means valid
	}{
		{"valid with Flex", func(*Account) {}, ""},
		{"clock skew of 5 minutes", func(a *Account) { a.ClockSkew = Duration(5 * time.Minute) }, ""},
		{"clock skew at the maximum", func(a *Account) { a.ClockSkew = Duration(MaxClockSkew) }, ""},
		{"clock skew over the maximum", func(a *Account) { a.ClockSkew = Duration(MaxClockSkew + time.Nanosecond) }, "clock_skew"},
		{"clock skew negative", func(a *Account) { a.ClockSkew = Duration(-time.Nanosecond) }, "clock_skew"},
		{"max response bytes at the maximum", func(a *Account) { a.MaxResponseBytes = 4 << 20 }, ""},
		{"max response bytes over the maximum", func(a *Account) { a.MaxResponseBytes = 4<<20 + 1 }, "max_response_bytes"},
		{"max response bytes negative", func(a *Account) { a.MaxResponseBytes = -1 }, "max_response_bytes"},
		{"token TTL of an hour", func(a *Account) { a.TokenTTL = Duration(time.Hour) }, ""},
		{"token TTL at the maximum", func(a *Account) { a.TokenTTL = Duration(24 * time.Hour) }, ""},
		{"token TTL over the maximum", func(a *Account) { a.TokenTTL = Duration(24*time.Hour + time.Nanosecond) }, "token_ttl"},
		{"Flex API base URL set and valid", func(a *Account) { a.Flex.APIBaseURL = "https://flex-api.example.com" }, ""},
		{"Flex API base URL on plain http", func(a *Account) { a.Flex.APIBaseURL = "http://flex-api.example.com" }, "flex.api_base_url"},
		{"Flex delivery URL set and valid", func(a *Account) { a.Flex.DeliveryURL = "https://flex.example.com/deliver" }, ""},
		{"Flex delivery URL not absolute", func(a *Account) { a.Flex.DeliveryURL = "flex.example.com/deliver" }, "flex.delivery_url"},
		{"mapping attribute with spaces", func(a *Account) { a.RolesAttribute = " roles" }, "roles_attribute"},
		{"IdP certificates at the maximum", func(a *Account) { a.IdPCertificates = slices.Repeat(a.IdPCertificates[:1], MaxIdPCertificates) }, ""},
		{"IdP certificates over the maximum", func(a *Account) { a.IdPCertificates = slices.Repeat(a.IdPCertificates[:1], MaxIdPCertificates+1) }, "idp_certificates"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := testAccount(t)
			a.Flex = &FlexConnection{InstanceSID: "GO" + hex32, APIKeySID: "SK" + hex32}
			tc.edit(&a)
			err := a.Validate(testNow)
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a *ValidationError for %s", err, tc.wantField)
			}
			if len(ve.Problems) != 1 || ve.Problems[0].Field != tc.wantField {
				t.Fatalf("problems %v, want exactly one for %s", ve.Problems, tc.wantField)
			}
			// The message names the field first, for the CLI and the API.
			if want := "invalid account settings: " + tc.wantField + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("message %q, want prefix %q", err.Error(), want)
			}
		})
	}
}

// TestSettingsCappedWhereUsed: an account stored without Validate (edited
// by hand in the table or file) cannot get a skew or an age bound beyond
// the largest allowed: the one-time-use records are kept for those, and
// must outlive acceptance.
func TestSettingsCappedWhereUsed(t *testing.T) {
	t.Parallel()
	a := Account{ClockSkew: Duration(time.Hour), MaxAuthnAge: Duration(48 * time.Hour)}
	if a.Skew() != MaxClockSkew || a.AuthnAge() != MaxMaxAuthnAge {
		t.Fatalf("skew %s, age %s", a.Skew(), a.AuthnAge())
	}
	a = Account{ClockSkew: Duration(time.Minute), MaxAuthnAge: Duration(2 * time.Hour)}
	if a.Skew() != time.Minute || a.AuthnAge() != 2*time.Hour {
		t.Fatalf("skew %s, age %s", a.Skew(), a.AuthnAge())
	}
}
