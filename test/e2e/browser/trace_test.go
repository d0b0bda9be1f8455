package browser_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/samlflex/samlflex/test/e2e/samlidp"
)

// TestFailurePageShowsBothValues: misconfigurations an admin makes, each
// seen in a real browser after a real third-party IdP's login: the page
// names the code and shows the value samlflex expected beside the value
// the response carried.
func TestFailurePageShowsBothValues(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{idpInitiated: "refuse"})
	ctx := newBrowser(t)
	idpFingerprint := pemFingerprint(t, s.IdP.CertPEM)
	renewed := otherCertPEM(t)

	tests := []struct {
		name string
		put  []string // account put flags for this case
		code string
		want []string // on the page
	}{
		{name: "another org's issuer", put: []string{"--idp-issuer", "https://other-org.my.salesforce.com"},
			code: "issuer_mismatch",
			want: []string{"issuer", "https://other-org.my.salesforce.com", s.IdP.Issuer, "IdP issuer (--idp-issuer)"}},
		{name: "renewed IdP certificate not saved", put: []string{"--idp-issuer", s.IdP.Issuer, "--idp-cert", writeTempFile(t, "renewed.pem", renewed)},
			code: "certificate_untrusted",
			want: []string{"signature", "presented, not trusted", "SHA-256 " + idpFingerprint, "SHA-256 " + pemFingerprint(t, renewed)}},
	}
	for i, tc := range tests {
		// One browser and one site, case after case: the IdP's session
		// answers the second login without its form.
		s.stopServe()
		runCLI(t, s.bin, append([]string{"account", "put", "--data", s.data, "--account-sid", s.SID}, tc.put...)...)
		s.serve(t)
		do(ctx, t, tc.name+": open the login link", chromedp.Navigate(s.LoginURL))
		if i == 0 {
			do(ctx, t, "wait for the IdP's login form", chromedp.WaitVisible(chromedp.ID("login")))
			logInAtIdP(ctx, t)
		}
		out := waitOutcome(ctx, t)
		if out.Code != tc.code {
			t.Errorf("%s: page code %q, want %q; page:\n%s", tc.name, out.Code, tc.code, out.Text)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out.Text, w) {
				t.Errorf("%s: page lacks %q:\n%s", tc.name, w, out.Text)
			}
		}
		if !strings.Contains(out.Text, "What samlflex checked") {
			t.Errorf("%s: no table of checks:\n%s", tc.name, out.Text)
		}
	}
}

func pemFingerprint(t *testing.T, pemText string) string {
	t.Helper()
	b, _ := pem.Decode([]byte(pemText))
	if b == nil {
		t.Fatal("no PEM block")
	}
	sum := sha256.Sum256(b.Bytes)
	return hex.EncodeToString(sum[:])
}

// otherCertPEM is a certificate the IdP does not sign with: what samlflex
// holds when Salesforce signs with a renewed one.
func otherCertPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "SelfSignedCert_old"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestFailurePageRoles: a user without the roles attribute, and one with
// a typo in it, each logging in from the login link: the page shows what
// arrived and what was configured.
func TestFailurePageRoles(t *testing.T) {
	t.Parallel()
	users := []samlidp.User{
		{Username: "norole@example.com", Password: "pw-norole", FullName: "No Role", Email: "norole@example.com"},
		{Username: "typo@example.com", Password: "pw-typo", FullName: "Typo", Email: "typo@example.com", Roles: []string{"agnet"}},
	}
	s := newSite(t, siteOptions{idpInitiated: "refuse", users: users})
	for _, tc := range []struct {
		user samlidp.User
		code string
		want []string
	}{
		{users[0], "no_roles", []string{"roles", "no attribute roles", "attributes received: email, full_name", "custom attribute roles"}},
		{users[1], "unknown_role", []string{"roles", "roles = agnet", "agent, supervisor, admin", "custom attribute roles"}},
	} {
		wantFailurePage(t, s, tc.user.Username, tc.user.Password, tc.code, tc.want)
	}
}

// TestFailurePageLegacyEntityID: the connected app still has the legacy
// iam.twilio.com Entity Id (here an IdP-initiated login, as the IdP only
// answers requests from the SP it knows): the page shows both Entity Ids,
// and the refused IdP-initiated login beside it.
func TestFailurePageLegacyEntityID(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{idpInitiated: "refuse"})
	legacy := "https://iam.twilio.com/v1/Accounts/" + s.SID + "/saml2/metadata"
	idp := samlidp.Start(t, samlidp.Options{SPEntityID: legacy, SPACSURL: s.ACSURL, Users: testUsers(), Host: "localhost"})
	s.switchIdP(t, idp)
	ctx := newBrowser(t)
	do(ctx, t, "IdP-initiated login", chromedp.Navigate(idp.IdPInitiatedURL(aliceUser, alicePassword, "")))
	out := waitOutcome(ctx, t)
	if out.Code != "audience_mismatch" {
		t.Fatalf("page code %q, want audience_mismatch; page:\n%s", out.Code, out.Text)
	}
	for _, w := range []string{"audience", legacy, s.EntityID, "Entity Id", "in_response_to"} {
		if !strings.Contains(out.Text, w) {
			t.Errorf("page lacks %q:\n%s", w, out.Text)
		}
	}
}

// TestFailurePageClockAhead: an IdP whose clock is 20 minutes ahead: the
// page shows the assertion's times, samlflex's time and the difference.
func TestFailurePageClockAhead(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{idpInitiated: "refuse"})
	idp := samlidp.Start(t, samlidp.Options{SPEntityID: s.EntityID, SPACSURL: s.ACSURL, Users: testUsers(), Host: "localhost",
		ClockOffset: 20 * time.Minute})
	s.switchIdP(t, idp)
	ctx := newBrowser(t)
	do(ctx, t, "open the login link", chromedp.Navigate(s.LoginURL))
	do(ctx, t, "wait for the IdP's login form", chromedp.WaitVisible(chromedp.ID("login")))
	logInAtIdP(ctx, t)
	out := waitOutcome(ctx, t)
	if out.Code != "assertion_not_yet_valid" {
		t.Fatalf("page code %q, want assertion_not_yet_valid; page:\n%s", out.Code, out.Text)
	}
	for _, w := range []string{"conditions_time", "samlflex time ", "NotBefore ", "before NotBefore: the IdP's clock is ahead", "--clock-skew"} {
		if !strings.Contains(out.Text, w) {
			t.Errorf("page lacks %q:\n%s", w, out.Text)
		}
	}
	// The difference is about 20 minutes (the login took a moment).
	if !strings.Contains(out.Text, "samlflex's time is 19m") && !strings.Contains(out.Text, "samlflex's time is 20m") {
		t.Errorf("page does not show a difference of about 20 minutes:\n%s", out.Text)
	}
}

// TestFailurePageIdPSide: what the IdP gets wrong by itself: a profile
// without access to the connected app (a status error, whose likely cause
// the page names) and a SHA-1 signature (refused, and the other problems
// of the same response listed with it: here another org's issuer).
func TestFailurePageIdPSide(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{idpInitiated: "refuse"})
	idp := samlidp.Start(t, samlidp.Options{SPEntityID: s.EntityID, SPACSURL: s.ACSURL, Users: testUsers(), Host: "localhost",
		SHA1: true, DenyUser: bobUser})
	s.switchIdP(t, idp)
	s.stopServe()
	runCLI(t, s.bin, "account", "put", "--data", s.data, "--account-sid", s.SID, "--idp-issuer", "https://other-org.my.salesforce.com")
	s.serve(t)
	for _, tc := range []struct {
		user, password, code string
		want                 []string
	}{
		{bobUser, bobPassword, "status_not_success", []string{"status", "Success", "Requester", "access to the connected app"}},
		{aliceUser, alicePassword, "sha1_not_allowed", []string{"signature_algorithm", "rsa-sha1", "stays refused",
			"issuer", "https://other-org.my.salesforce.com", idp.Issuer}},
	} {
		wantFailurePage(t, s, tc.user, tc.password, tc.code, tc.want)
	}
}

// wantFailurePage logs in through s's login link as user, in a fresh
// browser (so a fresh IdP session), and checks that samlflex answers with
// its failure page for code, showing every text in want.
func wantFailurePage(t *testing.T, s *site, user, password, code string, want []string) {
	t.Helper()
	ctx := newBrowser(t)
	do(ctx, t, code+": open the login link", chromedp.Navigate(s.LoginURL))
	do(ctx, t, "log in at the IdP as "+user,
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("login")))
	out := waitOutcome(ctx, t)
	if out.Code != code {
		t.Errorf("page code %q, want %q; page:\n%s", out.Code, code, out.Text)
		return
	}
	for _, w := range want {
		if !strings.Contains(out.Text, w) {
			t.Errorf("%s: page lacks %q:\n%s", code, w, out.Text)
		}
	}
}
