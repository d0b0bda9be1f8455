package samlflex

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseCertificatePasted(t *testing.T) {
	t.Parallel()
	pemText := string(readTestdata(t, "keys/idp-rsa.crt"))
	want, err := ParseCertificate(pemText)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(pemText), "-----BEGIN CERTIFICATE-----"), "-----END CERTIFICATE-----"))
	variants := map[string]string{
		"windows line endings": strings.ReplaceAll(pemText, "\n", "\r\n"),
		"indented":             "   " + strings.ReplaceAll(pemText, "\n", "\n\t  "),
		"no BEGIN/END lines":   body,
		"one long line":        strings.Join(strings.Fields(body), ""),
		"stray spaces":         "\n\n  " + strings.Join(strings.Fields(body), " ") + "  \n",
	}
	for name, v := range variants {
		got, err := ParseCertificate(v)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, bad := range map[string]string{
		"empty":       "  ",
		"private key": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
		"garbage":     "hello world",
		"truncated":   pemText[:len(pemText)/2],
	} {
		if _, err := ParseCertificate(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if n, err := NormalizeCertificate(variants["no BEGIN/END lines"]); err != nil || !strings.HasPrefix(n, "-----BEGIN CERTIFICATE-----\n") {
		t.Fatalf("normalize: %q %v", n, err)
	}
}

func TestAccountValidateListsEveryProblem(t *testing.T) {
	t.Parallel()
	good := testAccount(t)
	if err := good.Validate(testNow); err != nil {
		t.Fatalf("valid account refused: %v", err)
	}
	bad := Account{
		AccountSID:       "AC123",
		IdPCertificates:  []string{"nope", string(readTestdata(t, "keys/idp-rsa-expired.crt"))},
		IdPSSOURL:        "http://acme.my.salesforce.com/sso",
		StartURL:         "flex.twilio.com",
		AllowedRedirects: []string{"javascript:alert(1)"},
		DefaultRoles:     []string{"root"},
		ClockSkew:        Duration(time.Hour),
		TokenTTL:         Duration(-time.Second),
		Flex:             &FlexConnection{InstanceSID: "GO1", APIKeySID: "SK1"},
	}
	err := bad.Validate(testNow)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	fields := map[string]bool{}
	for _, p := range ve.Problems {
		fields[p.Field] = true
		if p.Message == "" {
			t.Errorf("%s has no message", p.Field)
		}
	}
	for _, f := range []string{"account_sid", "friendly_name", "idp_certificates[0]", "idp_certificates[1]", "idp_issuer",
		"idp_sso_url", "start_url", "allowed_redirects[0]", "default_roles", "clock_skew", "token_ttl", "flex.instance_sid", "flex.api_key_sid"} {
		if !fields[f] {
			t.Errorf("no problem reported for %s (got %v)", f, ve.Problems)
		}
	}
	// Plain http is fine for a local desktop only.
	local := good
	local.StartURL = "http://127.0.0.1:8080/desktop"
	if err := local.Validate(testNow); err != nil {
		t.Fatal(err)
	}
}

func TestAccountDefaultsAndJSON(t *testing.T) {
	t.Parallel()
	a := testAccount(t)
	if !a.IdPInitiatedAllowed() || a.Skew() != 3*time.Minute || a.MaxResponse() != 256<<10 || a.SessionTTL() != time.Hour || a.AllowSHA1 {
		t.Fatal("defaults changed")
	}
	m := a.Mapping()
	if m.FullNameAttr != "full_name" || m.RolesAttr != "roles" || m.EmailAttr != "email" || len(m.DefaultRoles) != 0 {
		t.Fatalf("mapping defaults %+v", m)
	}
	off := false
	a.AllowIdPInitiated = &off
	a.ClockSkew = Duration(90 * time.Second)
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"clock_skew":"1m30s"`) {
		t.Fatalf("json %s", b)
	}
	var back Account
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.IdPInitiatedAllowed() || back.Skew() != 90*time.Second {
		t.Fatalf("round trip lost settings: %+v", back)
	}
}

func TestURLsFor(t *testing.T) {
	t.Parallel()
	u, err := URLsFor("https://sso.example.com/", testSID)
	if err != nil {
		t.Fatal(err)
	}
	if u.EntityID != "https://sso.example.com/v1/Accounts/"+testSID+"/saml2/metadata" ||
		u.ACS != "https://sso.example.com/v1/Accounts/"+testSID+"/saml2" ||
		u.Login != "https://sso.example.com/v1/Accounts/"+testSID+"/saml2/login" {
		t.Fatalf("%+v", u)
	}
	for _, bad := range []string{"sso.example.com", "ftp://x", "https://x/?a=b"} {
		if _, err := URLsFor(bad, testSID); CodeOf(err) != CodeInvalidConfig {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := URLsFor("https://x", "AC1"); CodeOf(err) != CodeInvalidConfig {
		t.Error("bad SID accepted")
	}
}

func TestErrorType(t *testing.T) {
	t.Parallel()
	err := Errorf(CodeAssertionExpired, "at %d", 5)
	if err.Error() != "assertion_expired: at 5" || CodeOf(err) != CodeAssertionExpired || PublicOf(err) == "" {
		t.Fatalf("%v", err)
	}
	if wrapped := fmt.Errorf("outer: %w", err); CodeOf(wrapped) != CodeAssertionExpired {
		t.Fatal("CodeOf does not see through wrapping")
	}
	if CodeOf(errors.New("x")) != CodeInternal {
		t.Fatal("unknown errors are internal")
	}
	for _, c := range Codes() {
		if len(c.Public) < 20 || strings.Contains(c.Public, "%") {
			t.Errorf("%s: public message %q", c.Code, c.Public)
		}
	}
}

// TestAccountCloneIsDeep: Clone copies every field, and the copy shares
// no slice or pointer with the original. Every field is filled by
// reflection, so a field added later is covered; a kind Clone cannot know
// to copy (a map, say) fails the test until Clone handles it.
func TestAccountCloneIsDeep(t *testing.T) {
	t.Parallel()
	var a Account
	fill(t, reflect.ValueOf(&a).Elem())
	c := a.Clone()
	if !reflect.DeepEqual(a, c) {
		t.Fatalf("clone differs:\n%+v\n%+v", a, c)
	}
	av, cv := reflect.ValueOf(a), reflect.ValueOf(c)
	for i := range av.NumField() {
		f, g := av.Field(i), cv.Field(i)
		switch f.Kind() {
		case reflect.Slice, reflect.Pointer:
			if f.Pointer() == g.Pointer() {
				t.Errorf("Account.%s is shared by the clone", av.Type().Field(i).Name)
			}
		}
	}
}

// fill sets every field of v to a non-zero value.
func fill(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 4))
		for i := range v.Len() {
			fill(t, v.Index(i))
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(1, 0)))
			return
		}
		for i := range v.NumField() {
			fill(t, v.Field(i))
		}
	default:
		t.Fatalf("Clone does not know how to copy a %s (%s)", v.Kind(), v.Type())
	}
}
