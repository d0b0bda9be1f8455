package flexconn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/samlflex/samlflex/internal/flex"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Provisioner signs a verified identity into Flex: provision (create or
// update, roles replaced) and mint a Flex user token with the account's
// token TTL. It implements acs.Provisioner.
type Provisioner struct {
	Secrets Secrets
	// NewClient builds a flex client for a base URL ("" = Twilio's).
	NewClient func(baseURL string) (*flex.Client, error)

	mu      sync.Mutex
	clients map[string]*flex.Client
}

func (p *Provisioner) client(base string) (*flex.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[base]; ok {
		return c, nil
	}
	c, err := p.NewClient(base)
	if err != nil {
		return nil, err
	}
	if p.clients == nil {
		p.clients = map[string]*flex.Client{}
	}
	p.clients[base] = c
	return c, nil
}

// CredsFor builds the Twilio credentials of an account's Flex connection:
// the stored secret is an API key secret when the connection names an API
// key (SK…), or the account's Auth Token when it names the Account SID.
func CredsFor(acct *samlflex.Account, secret string) flex.Creds {
	return flex.Creds{Username: acct.Flex.APIKeySID, Secret: secret, AccountSID: acct.AccountSID}
}

// Provision implements acs.Provisioner.
func (p *Provisioner) Provision(ctx context.Context, acct *samlflex.Account, id samlflex.FlexIdentity) (string, error) {
	conn := acct.Flex
	if conn == nil {
		return "", samlflex.Errorf(samlflex.CodeInternal, "Provision called without a Flex connection")
	}
	// Flex requires an e-mail address for every user (Flex Users API:
	// email is required, 1-256 characters), and offers no way to clear
	// one. Saying so here names the Salesforce setting to fix, instead of
	// a generic refusal from Twilio.
	if id.Email == "" {
		return "", samlflex.NewError(samlflex.CodeAttributeMissing,
			"Flex needs an e-mail address for every user, and this response has none. In the Salesforce connected app, add the custom attribute email ($User.Email), or use e-mail addresses as usernames.",
			fmt.Errorf("no email attribute and the NameID is not an e-mail address"))
	}
	// Accounts saved before `account put` refused it may still deliver to
	// the Twilio-hosted Flex UI, which cannot take the token: refuse before
	// anything is provisioned rather than strand the agent there.
	if delivery := cmp.Or(conn.DeliveryURL, acct.StartURL); samlflex.IsTwilioHostedFlex(delivery) {
		return "", samlflex.Errorf(samlflex.CodeInvalidConfig,
			"account %s delivers the Flex token to the Twilio-hosted Flex UI, which cannot take it from a URL: set --flex-delivery-url to a Flex SDK app (docs/flex.md)", acct.AccountSID)
	}
	secret, err := p.Secrets.APISecret(ctx, acct.AccountSID)
	switch {
	case errors.Is(err, ErrNoSecret):
		return "", samlflex.NewError(samlflex.CodeFlexCredentialsInvalid,
			"No Twilio secret (API key secret or Auth Token) is stored for this account. Save it with `samlflex account put --flex-api-key-secret-file` or `--flex-auth-token-file`.", err)
	case err != nil:
		return "", samlflex.Errorf(samlflex.CodeKeysUnavailable, "reading the Twilio secret: %v", err)
	}
	c, err := p.client(conn.APIBaseURL)
	if err != nil {
		return "", samlflex.Errorf(samlflex.CodeInvalidConfig, "flex client for %q: %v", conn.APIBaseURL, err)
	}
	tok, err := c.Provision(ctx, CredsFor(acct, secret), conn.InstanceSID, flex.IdentityFrom(id), acct.SessionTTL())
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}
