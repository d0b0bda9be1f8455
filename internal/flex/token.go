package flex

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// The token lifetime samlflex requests. The Flex User Token API documents
// only the default (3600 s) and no maximum, so samlflex keeps every request
// inside a range it can stand behind: the documented default when none is
// configured; at most 24 h, the documented maximum lifetime of Twilio
// Access Tokens and the most an account's token TTL may be set to; at least
// one minute, so that the Flex SDK can start before the token expires.
// Values outside are clamped (with a warning), and a refusal from Twilio
// is a configuration error naming the setting (see mintToken).
const (
	DefaultTokenTTL = 3600 * time.Second
	MinTokenTTL     = time.Minute
	MaxTokenTTL     = 24 * time.Hour
)

// ClampTokenTTL returns the ttl samlflex sends for a requested one, and
// whether it had to change it (0 means the default and is no change).
func ClampTokenTTL(ttl time.Duration) (time.Duration, bool) {
	switch {
	case ttl == 0:
		return DefaultTokenTTL, false
	case ttl < MinTokenTTL:
		return MinTokenTTL, true
	case ttl > MaxTokenTTL:
		return MaxTokenTTL, true
	}
	// Round down: a token must not outlive what samlflex was configured to
	// allow.
	return ttl.Truncate(time.Second), false
}

// TTLRefusedPublic is the page text when Twilio refuses the token lifetime:
// it names the setting and never echoes input.
const TTLRefusedPublic = "Twilio refused the Flex token lifetime configured for this account. An administrator must lower the account's token TTL (samlflex account put --token-ttl; the default is 1h)."

// Token is a Flex user token: a JWE that the Flex UI and the Flex SDK
// accept. It is a bearer credential: String, GoString and LogValue leave
// AccessToken out.
type Token struct {
	AccessToken string
	// Expires is token_info.expiration, or (if Twilio sends none) the
	// request's start plus the ttl, which is never later than the truth.
	Expires     time.Time
	FlexUserSID string
	Identity    string
	Roles       []string
}

// String implements fmt.Stringer without the token.
func (t Token) String() string {
	return "flex.Token{FlexUserSID: " + t.FlexUserSID + ", Expires: " + t.Expires.Format(time.RFC3339) +
		", AccessToken: [redacted]}"
}

// GoString implements fmt.GoStringer without the token.
func (t Token) GoString() string { return t.String() }

// LogValue implements slog.LogValuer without the token or the identity.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("flex_user_sid", t.FlexUserSID), slog.Time("expires", t.Expires))
}

// tokenBody is the documented request. ttl is always sent (clamped), so
// that the lifetime never depends on an undocumented server default.
type tokenBody struct {
	TTL int64 `json:"ttl"`
}

// wireToken is the documented answer of Generate a Flex user token.
type wireToken struct {
	AccessToken string `json:"access_token"`
	TokenInfo   struct {
		AccountSID      string   `json:"account_sid"`
		Expiration      string   `json:"expiration"`
		FlexInstanceSID string   `json:"flex_instance_sid"`
		FlexUserSID     string   `json:"flex_user_sid"`
		Identity        string   `json:"identity"`
		Permissions     []string `json:"permissions"`
		Roles           []string `json:"roles"`
		Username        string   `json:"username"`
	} `json:"token_info"`
}

// MintToken generates a Flex user token for the user flexUserSID (FU…),
// valid for ttl (whole seconds; 0 means the default of one hour; see
// ClampTokenTTL for the range).
// The Tokens endpoint is keyed by Flex user SID, not by identity; use
// FindUser or ProvisionUser to get the SID.
func (c *Client) MintToken(ctx context.Context, creds Creds, instanceSID, flexUserSID string, ttl time.Duration) (Token, error) {
	return c.mintToken(ctx, creds, c.newBudget(), instanceSID, flexUserSID, ttl)
}

func (c *Client) mintToken(ctx context.Context, creds Creds, b budget, instanceSID, flexUserSID string, ttl time.Duration) (Token, error) {
	t, _, err := c.mintTokenStatus(ctx, creds, b, instanceSID, flexUserSID, ttl)
	return t, err
}

// mintTokenStatus is mintToken that also reports the HTTP status, for
// ProvisionTestUser.
func (c *Client) mintTokenStatus(ctx context.Context, creds Creds, b budget, instanceSID, flexUserSID string, ttl time.Duration) (Token, int, error) {
	const op = "mint_token"
	if err := checkUserCall(op, creds, instanceSID, flexUserSID); err != nil {
		return Token{}, 0, err
	}
	if ttl < 0 {
		return Token{}, 0, samlflex.Errorf(samlflex.CodeInvalidConfig,
			"flex %s: token ttl must not be negative, got %v", op, ttl)
	}
	sent, clamped := ClampTokenTTL(ttl)
	if clamped {
		c.log.LogAttrs(ctx, slog.LevelWarn, "flex token ttl clamped",
			slog.Duration("requested", ttl), slog.Duration("sent", sent),
			slog.Duration("min", MinTokenTTL), slog.Duration("max", MaxTokenTTL))
	}
	secs := int64(sent / time.Second)
	started := c.now()
	var w wireToken
	status, err := c.do(ctx, creds, b, request{
		op: op, method: "POST", path: "/v4/Instances/" + instanceSID + "/Users/" + flexUserSID + "/Tokens",
		body: tokenBody{TTL: secs},
		// Not idempotent (each call mints a new token), but safe to repeat:
		// a token minted by an attempt whose answer was lost never left
		// Twilio, and no durable resource is created.
		retrySafe: true,
	}, &w)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest {
		// The body carries nothing but ttl, so a 400 refuses the lifetime.
		// Retrying cannot help; the admin has to change the setting.
		return Token{}, status, samlflex.NewError(samlflex.CodeInvalidConfig, TTLRefusedPublic,
			fmt.Errorf("flex %s: Twilio refused ttl=%d s (%w): lower the account's token TTL with `samlflex account put --token-ttl` (default 1h)", op, secs, apiErr))
	}
	if err != nil {
		return Token{}, status, err
	}
	if w.AccessToken == "" {
		return Token{}, status, samlflex.Errorf(samlflex.CodeFlexUnavailable, "flex %s: answer has no access_token", op)
	}
	if got := w.TokenInfo.FlexUserSID; got != "" && got != flexUserSID {
		// Fail closed: never hand out a token for somebody else.
		return Token{}, status, samlflex.Errorf(samlflex.CodeFlexUnavailable,
			"flex %s: token_info names Flex user %s, asked for %s", op, got, flexUserSID)
	}
	t := Token{
		AccessToken: w.AccessToken,
		Expires:     parseTime(w.TokenInfo.Expiration),
		FlexUserSID: flexUserSID,
		Identity:    cmp.Or(w.TokenInfo.Identity, w.TokenInfo.Username),
		Roles:       w.TokenInfo.Roles,
	}
	if t.Expires.IsZero() {
		t.Expires = started.Add(sent)
	}
	return t, status, nil
}
