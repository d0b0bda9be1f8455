package flex

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/flex/flextest"
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
		{"Twilio default", 0, "", `{}`, time.Hour, ""},
		{"90 minutes", 90 * time.Minute, "", `{"ttl":5400}`, 90 * time.Minute, ""},
		{"fraction rounded down", 1500 * time.Millisecond, "", `{"ttl":1}`, time.Second, ""},
		{"negative", -time.Second, "", "", 0, samlflex.CodeInvalidConfig},
		{"below one second", 500 * time.Millisecond, "", "", 0, samlflex.CodeInvalidConfig},
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
	logs := &logBuffer{}
	newJSONLogger(logs).Info("t", "token", tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok), logs.String()} {
		if strings.Contains(s, "secret.jwe") || strings.Contains(s, "alice@") {
			t.Errorf("token or identity in %q", s)
		}
	}
}
