package flex

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// defaultTokenTTL is Twilio's documented default ttl when none is sent.
const defaultTokenTTL = 3600 * time.Second

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

// tokenBody is the documented request; ttl is omitted for Twilio's default.
type tokenBody struct {
	TTL int64 `json:"ttl,omitempty"`
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
// valid for ttl (whole seconds; 0 means Twilio's default of one hour).
// The Tokens endpoint is keyed by Flex user SID, not by identity; use
// FindUser or ProvisionUser to get the SID.
func (c *Client) MintToken(ctx context.Context, creds Creds, instanceSID, flexUserSID string, ttl time.Duration) (Token, error) {
	return c.mintToken(ctx, creds, c.newBudget(), instanceSID, flexUserSID, ttl)
}

func (c *Client) mintToken(ctx context.Context, creds Creds, b budget, instanceSID, flexUserSID string, ttl time.Duration) (Token, error) {
	const op = "mint_token"
	if err := checkCall(op, creds, instanceSID); err != nil {
		return Token{}, err
	}
	if !flexUserSIDPattern.MatchString(flexUserSID) {
		return Token{}, samlflex.Errorf(samlflex.CodeFlexRejected,
			"flex %s: Flex user SID %q is not FU followed by 32 hex digits", op, flexUserSID)
	}
	if ttl < 0 || (ttl > 0 && ttl < time.Second) {
		return Token{}, samlflex.Errorf(samlflex.CodeInvalidConfig,
			"flex %s: token ttl must be 0 (Twilio's default) or at least 1s, got %v", op, ttl)
	}
	// Round down: a token must not outlive what samlflex was configured to
	// allow.
	secs := int64(ttl / time.Second)
	started := c.now()
	var w wireToken
	_, err := c.do(ctx, creds, b, request{
		op: op, method: "POST", path: "/v4/Instances/" + instanceSID + "/Users/" + flexUserSID + "/Tokens",
		body: tokenBody{TTL: secs},
		// Not idempotent (each call mints a new token), but safe to repeat:
		// a token minted by an attempt whose answer was lost never left
		// Twilio, and no durable resource is created.
		retrySafe: true,
	}, &w)
	if err != nil {
		return Token{}, err
	}
	if w.AccessToken == "" {
		return Token{}, samlflex.Errorf(samlflex.CodeFlexUnavailable, "flex %s: answer has no access_token", op)
	}
	if got := w.TokenInfo.FlexUserSID; got != "" && got != flexUserSID {
		// Fail closed: never hand out a token for somebody else.
		return Token{}, samlflex.Errorf(samlflex.CodeFlexUnavailable,
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
		d := ttl.Truncate(time.Second)
		if d == 0 {
			d = defaultTokenTTL
		}
		t.Expires = started.Add(d)
	}
	return t, nil
}
