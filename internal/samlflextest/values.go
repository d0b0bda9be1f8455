package samlflextest

import (
	"testing"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// The values the golden responses of pkg/samlflex/testdata were signed for
// (see its README). Changing one means re-signing the fixtures.
const (
	// AccountSID is the Twilio account the golden audience and destination name.
	AccountSID = "AC0123456789abcdef0123456789abcdef"
	// BaseURL is the public base URL of the SP in the golden responses.
	BaseURL = "https://sso.example.com"
	// IdPIssuer is the issuer of the golden responses.
	IdPIssuer = "https://acme.my.salesforce.com"
	// IdPSSOURL is the IdP's login endpoint of the test account.
	IdPSSOURL = "https://acme.my.salesforce.com/idp/endpoint/HttpRedirect"
	// StartURL is where the test account sends agents after a login.
	StartURL = "https://flex.example.com/agent-desktop"
	// RequestID is the InResponseTo of the solicited golden responses.
	RequestID = "_samlflex_0123456789abcdef0123456789abcdef"
)

// IssueInstant is the IssueInstant of the golden responses.
var IssueInstant = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

// Now is the pinned test time: ten seconds after IssueInstant, inside every
// golden response's validity window, so tests never depend on the wall clock.
var Now = IssueInstant.Add(10 * time.Second)

// Clock returns Now; it fits every `Now func() time.Time` config field.
func Clock() time.Time { return Now }

// Account returns a valid account for AccountSID that trusts the golden IdP
// certificate, with no optional setting. Tests adjust the copy they get.
func Account(t testing.TB) samlflex.Account {
	t.Helper()
	return samlflex.Account{AccountSID: AccountSID, FriendlyName: "Salesforce", IdPCertificates: []string{IdPCertificate(t)},
		IdPIssuer: IdPIssuer, IdPSSOURL: IdPSSOURL, StartURL: StartURL}
}
