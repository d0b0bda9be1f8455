package flex

import (
	"context"
	"log/slog"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Provision is the login: it makes the Flex user match id (creating it on
// the first login) and mints a token for it, within one budget of
// Options.MaxElapsed (or ctx's deadline, if earlier).
//
// A retried or concurrent first login cannot create two users: Provision is
// Twilio's create-or-update keyed by the unique username (see doc.go). If
// Twilio answers a racing create with 409, the same request is sent again
// after a backoff, within the budget; once the other create is done it is
// an update.
func (c *Client) Provision(ctx context.Context, creds Creds, instanceSID string, id Identity, ttl time.Duration) (Token, error) {
	b := c.newBudget()
	u, err := c.provisionUser(ctx, creds, b, instanceSID, id)
	if err != nil {
		return Token{}, err
	}
	if u.Deactivated {
		// An admin deprovisioned this user in Flex; a SAML login must not
		// silently undo that.
		return Token{}, samlflex.Errorf(samlflex.CodeFlexRejected,
			"flex provision: Flex user %s is deactivated; reactivate it in Flex or remove the user from the connected app",
			u.FlexUserSID)
	}
	t, err := c.mintToken(ctx, creds, b, instanceSID, u.FlexUserSID, ttl)
	if err != nil {
		return Token{}, err
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "flex user signed in", slog.Any("identity", id),
		slog.String("flex_user_sid", u.FlexUserSID), slog.Time("expires", t.Expires))
	return t, nil
}
