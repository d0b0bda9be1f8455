package samlflex

import (
	"fmt"
	"net/url"
	"strings"
)

// URLs are the service provider's identifiers for one account, spelled
// exactly as the Flex setup guide has admins paste them into the Salesforce
// connected app.
type URLs struct {
	// EntityID is the connected app's "Entity Id" (the SAML Audience).
	EntityID string
	// ACS is the connected app's "ACS URL" (Destination and Recipient).
	ACS string
	// Login is the login link that agents open (SP-initiated login).
	Login string
	// Metadata serves the SP metadata; it is also the entity ID, as in the
	// guide.
	Metadata string
}

// URLsFor derives the identifiers from a base URL (scheme and host, maybe a
// path prefix, no trailing slash needed) and an Account SID.
func URLsFor(baseURL, accountSID string) (URLs, error) {
	if !ValidAccountSID(accountSID) {
		return URLs{}, Errorf(CodeInvalidConfig, "account SID %q has the wrong shape", accountSID)
	}
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		return URLs{}, NewError(CodeInvalidConfig, "The base URL must be an absolute https:// URL such as https://sso.example.com.", fmt.Errorf("base URL %q", baseURL))
	}
	base := strings.TrimRight(baseURL, "/")
	acs := base + "/v1/Accounts/" + accountSID + "/saml2"
	return URLs{
		EntityID: acs + "/metadata",
		ACS:      acs,
		Login:    acs + "/login",
		Metadata: acs + "/metadata",
	}, nil
}
