package storetest

import (
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// fullAccount sets every field of samlflex.Account (and of the nested
// FlexConnection) to a non-zero value, so that a backend that drops or
// mangles a field fails the round trip. AllowIdPInitiated is false on
// purpose: a pointer to false must not come back as nil (which means "on").
func fullAccount(sid string) samlflex.Account {
	off := false
	return samlflex.Account{
		AccountSID:   sid,
		FriendlyName: "Salesforce (prod) – ünïcödé",
		IdPCertificates: []string{
			"-----BEGIN CERTIFICATE-----\nMIIBfirst\n-----END CERTIFICATE-----\n",
			"-----BEGIN CERTIFICATE-----\nMIIBsecond\n-----END CERTIFICATE-----\n",
		},
		IdPIssuer:         "https://example.my.salesforce.com",
		IdPSSOURL:         "https://example.my.salesforce.com/idp/endpoint/HttpRedirect",
		StartURL:          "https://flex.twilio.com/agent-desktop",
		AllowedRedirects:  []string{"https://a.example.com/x?y=1&z=2", "https://b.example.com/"},
		AllowIdPInitiated: &off,
		IdPInitiated:      samlflex.IdPInitiatedRefuse,
		DefaultRoles:      []string{"agent", "supervisor"},
		ClockSkew:         samlflex.Duration(90 * time.Second),
		MaxAuthnAge:       samlflex.Duration(2 * time.Hour),
		AllowSHA1:         true,
		SignAuthnRequests: true,
		MaxResponseBytes:  123456,
		TokenTTL:          samlflex.Duration(45*time.Minute + 500*time.Millisecond),
		FullNameAttribute: "FullName",
		RolesAttribute:    "Roles",
		EmailAttribute:    "Email",
		Flex: &samlflex.FlexConnection{
			InstanceSID: "GO0123456789abcdef0123456789abcdef",
			APIKeySID:   "SK0123456789abcdef0123456789abcdef",
			APIBaseURL:  "https://flex-api.example.com",
			DeliveryURL: "https://flex.example.com/deliver",
		},
		// Version and UpdatedAt are the store's to set; give them values
		// that a correct store overwrites.
		Version:   42,
		UpdatedAt: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// minimalAccount leaves every optional field at its zero value, so that a
// backend that turns nil into empty (or the reverse) fails the round trip.
func minimalAccount(sid string) samlflex.Account {
	return samlflex.Account{
		AccountSID:      sid,
		FriendlyName:    "minimal",
		IdPCertificates: []string{"cert"},
		IdPIssuer:       "https://idp.example.com",
		IdPSSOURL:       "https://idp.example.com/sso",
		StartURL:        "https://flex.twilio.com/agent-desktop",
	}
}
