package flex

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/flex/flextest"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

func TestMintToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		ttl         time.Duration
		sid         string // "" means the provisioned user's
		wantBody    string
		wantExpires time.Duration
		wantCode    samlflex.Code
	}{
		{"default sent explicitly", 0, "", `{"ttl":3600}`, time.Hour, ""},
		{"90 minutes", 90 * time.Minute, "", `{"ttl":5400}`, 90 * time.Minute, ""},
		{"fraction rounded down", 90*time.Second + 500*time.Millisecond, "", `{"ttl":90}`, 90 * time.Second, ""},
		{"negative", -time.Second, "", "", 0, samlflex.CodeInvalidConfig},
		{"below the minimum: clamped up", 500 * time.Millisecond, "", `{"ttl":60}`, time.Minute, ""},
		{"above the maximum: clamped down", 48 * time.Hour, "", `{"ttl":86400}`, 24 * time.Hour, ""},
		{"exactly the maximum", 24 * time.Hour, "", `{"ttl":86400}`, 24 * time.Hour, ""},
		{"malformed user SID", time.Hour, "FU../../x", "", 0, samlflex.CodeFlexRejected},
		{"unknown user", time.Hour, "FU0000000000000000000000000000dead", `{"ttl":3600}`, 0, samlflex.CodeFlexInstanceNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, flextest.Options{}, nil)
			u, err := e.c.ProvisionUser(t.Context(), goodCreds, flextest.InstanceSID, alice())
			if err != nil {
				t.Fatal(err)
			}
			sid := tt.sid
			if sid == "" {
				sid = u.FlexUserSID
			}
			tok, err := e.c.MintToken(t.Context(), goodCreds, flextest.InstanceSID, sid, tt.ttl)
			mints := e.srv.RequestsTo(http.MethodPost, "/Tokens")
			if tt.wantBody == "" && len(mints) != 0 {
				t.Errorf("sent %d token requests for invalid input", len(mints))
			}
			if tt.wantBody != "" && (len(mints) != 1 || string(mints[0].Body) != tt.wantBody) {
				t.Errorf("token requests = %d, body %q, want 1 with %s", len(mints), bodyOf(mints), tt.wantBody)
			}
			if tt.wantCode != "" {
				wantCode(t, err, tt.wantCode)
				return
			}
			if err != nil {
				t.Fatalf("MintToken: %v", err)
			}
			if want := e.clock.Now().Add(tt.wantExpires); !tok.Expires.Equal(want) {
				t.Errorf("Expires = %v, want %v", tok.Expires, want)
			}
			if tok.FlexUserSID != u.FlexUserSID || tok.Identity != "alice@example.com" {
				t.Errorf("token = %v identity %q", tok, tok.Identity)
			}
		})
	}
}

// TestMintTokenTTLRefused: a 400 from the Tokens endpoint refuses the ttl
// (the only field sent); it is not retried, and the error names the
// setting to change, on the page and in the detail.
func TestMintTokenTTLRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, flextest.Options{MaxTTL: 1800}, nil)
	u, err := e.c.ProvisionUser(t.Context(), goodCreds, flextest.InstanceSID, alice())
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.c.MintToken(t.Context(), goodCreds, flextest.InstanceSID, u.FlexUserSID, time.Hour)
	var se *samlflex.Error
	if !errors.As(err, &se) || se.Code != samlflex.CodeInvalidConfig || se.Public != TTLRefusedPublic {
		t.Fatalf("error = %#v, want invalid_config with the TTL message", err)
	}
	if !strings.Contains(se.Public, "--token-ttl") || !strings.Contains(err.Error(), "ttl=3600") ||
		!strings.Contains(err.Error(), "--token-ttl") {
		t.Errorf("the setting is not named: %v / %q", err, se.Public)
	}
	if n := len(e.srv.RequestsTo(http.MethodPost, "/Tokens")); n != 1 {
		t.Errorf("token requests = %d, want 1 (a refused ttl is not retried)", n)
	}
	// Within the limit it works.
	if _, err := e.c.MintToken(t.Context(), goodCreds, flextest.InstanceSID, u.FlexUserSID, 30*time.Minute); err != nil {
		t.Errorf("30m: %v", err)
	}
}

func TestClampTokenTTL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want time.Duration
		clamped  bool
	}{
		{0, DefaultTokenTTL, false},
		{time.Second, MinTokenTTL, true},
		{MinTokenTTL, MinTokenTTL, false},
		{2*time.Hour + 300*time.Millisecond, 2 * time.Hour, false},
		{MaxTokenTTL, MaxTokenTTL, false},
		{MaxTokenTTL + time.Second, MaxTokenTTL, true},
	}
	for _, tt := range tests {
		t.Run(tt.in.String(), func(t *testing.T) {
			t.Parallel()
			if got, c := ClampTokenTTL(tt.in); got != tt.want || c != tt.clamped {
				t.Errorf("ClampTokenTTL(%v) = %v, %v; want %v, %v", tt.in, got, c, tt.want, tt.clamped)
			}
		})
	}
}

func bodyOf(rs []flextest.Request) string {
	if len(rs) == 0 {
		return ""
	}
	return string(rs[0].Body)
}

// Without token_info.expiration the expiry is computed from the request's
// start, never later than the truth.
func TestMintTokenExpiryFallback(t *testing.T) {
	t.Parallel()
	const sid = "FU00000000000000000000000000000001"
	srv := newStaticServer(t, http.StatusOK, `{"access_token":"opaque-jwe","token_info":{}}`)
	clock := newFakeClock()
	c, err := New(Options{BaseURL: srv, Now: clock.Now, Sleep: clock.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.MintToken(t.Context(), goodCreds, flextest.InstanceSID, sid, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if want := clock.Now().Add(10 * time.Minute); !tok.Expires.Equal(want) {
		t.Errorf("Expires = %v, want %v", tok.Expires, want)
	}
}

func TestMintTokenRejectsOddAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
	}{
		{"no access_token", `{"token_info":{"expiration":"2026-03-02T10:30:00Z"}}`},
		{"token for another user", `{"access_token":"x","token_info":{"flex_user_sid":"FU00000000000000000000000000000002"}}`},
		{"not JSON", `<html>gateway</html>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newStaticServer(t, http.StatusOK, tt.body)
			c, err := New(Options{BaseURL: srv})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.MintToken(t.Context(), goodCreds, flextest.InstanceSID, "FU00000000000000000000000000000001", time.Hour)
			wantCode(t, err, samlflex.CodeFlexUnavailable)
		})
	}
}

func TestTokenRedacted(t *testing.T) {
	t.Parallel()
	tok := Token{AccessToken: "eyJ.secret.jwe", FlexUserSID: "FU1", Identity: "alice@example.com",
		Expires: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	logs := &samlflextest.LogBuffer{}
	newJSONLogger(logs).Info("t", "token", tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok), logs.String()} {
		if strings.Contains(s, "secret.jwe") || strings.Contains(s, "alice@") {
			t.Errorf("token or identity in %q", s)
		}
	}
}
