package samlflextest_test

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/samlflextest"
)

// TestValuesMatchGolden checks that the constants and the pinned clock are
// the ones the golden response was signed for.
func TestValuesMatchGolden(t *testing.T) {
	t.Parallel()
	xml := samlflextest.Golden(t, "response-signed.xml")
	for _, want := range []string{
		`Destination="` + samlflextest.BaseURL + "/v1/Accounts/" + samlflextest.AccountSID + `/saml2"`,
		`InResponseTo="` + samlflextest.RequestID + `"`,
		`IssueInstant="` + samlflextest.IssueInstant.Format("2006-01-02T15:04:05.000Z") + `"`,
		">" + samlflextest.IdPIssuer + "</saml:Issuer>",
	} {
		if !strings.Contains(xml, want) {
			t.Errorf("response-signed.xml lacks %s", want)
		}
	}
	if got := samlflextest.Clock(); !got.Equal(samlflextest.Now) || !got.After(samlflextest.IssueInstant) {
		t.Errorf("Clock() = %v, want Now %v after IssueInstant", got, samlflextest.Now)
	}
}

func TestAccountIsValid(t *testing.T) {
	t.Parallel()
	a := samlflextest.Account(t)
	if err := a.Validate(samlflextest.Now); err != nil {
		t.Fatal(err)
	}
	if a.IdPCertificates[0] != samlflextest.Golden(t, "keys/idp-rsa.crt") {
		t.Error("account does not trust the golden IdP certificate")
	}
}

func TestKeyPairValidAtNow(t *testing.T) {
	t.Parallel()
	p := samlflextest.KeyPair(t, keys.P256, "kit")
	if c := p.Certificate; samlflextest.Now.Before(c.NotBefore) || !samlflextest.Now.Before(c.NotAfter) {
		t.Fatalf("pair valid %v..%v, not at %v", c.NotBefore, c.NotAfter, samlflextest.Now)
	}
	got, err := samlflextest.StaticKeys{Set: &keys.Set{Current: p}}.Keys(t.Context())
	if err != nil || got.Current != p {
		t.Fatalf("StaticKeys returned %v, %v", got, err)
	}
}

// TestLogBufferConcurrent runs under -race: parallel writers and readers.
func TestLogBufferConcurrent(t *testing.T) {
	t.Parallel()
	logger, buf := samlflextest.NewLogger(nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			logger.Info("event", "i", i)
			_ = buf.String()
		}()
	}
	wg.Wait()
	logger.Warn("other", "metric", 1)
	if n := len(buf.Records(t)); n != 9 {
		t.Errorf("Records: %d, want 9", n)
	}
	if n := len(buf.WithMsg(t, "event")); n != 8 {
		t.Errorf("WithMsg: %d, want 8", n)
	}
	if n := len(buf.WithKey(t, "metric")); n != 1 {
		t.Errorf("WithKey: %d, want 1", n)
	}
	if n := len(buf.Lines()); n != 9 {
		t.Errorf("Lines: %d, want 9", n)
	}
	if !buf.Contains(`"msg":"other"`) || string(buf.Bytes()) != buf.String() {
		t.Error("Contains/Bytes disagree with String")
	}
}

// TestRecordsRejectsNonJSON: a test reading records must not pass on
// output that is not what the logger writes.
func TestRecordsRejectsNonJSON(t *testing.T) {
	t.Parallel()
	var buf samlflextest.LogBuffer
	fmt.Fprintln(&buf, "plain text")
	ft := &fatalT{TB: t}
	func() {
		defer func() { _ = recover() }()
		buf.Records(ft)
	}()
	if !ft.failed {
		t.Fatal("Records accepted a line that is not JSON")
	}
}

type fatalT struct {
	testing.TB
	failed bool
}

func (f *fatalT) Helper() {}
func (f *fatalT) Fatalf(string, ...any) {
	f.failed = true
	panic("fatal")
}

func TestACSPost(t *testing.T) {
	t.Parallel()
	xml := samlflextest.Golden(t, "response-signed.xml")
	if !strings.Contains(xml, `Destination="`+samlflextest.ACSURL+`"`) {
		t.Fatalf("ACSURL %s is not the golden Destination", samlflextest.ACSURL)
	}
	r := samlflextest.ACSPost("PHJlc3Av", "/agent?x=1")
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	if r.Method != "POST" || r.URL.String() != samlflextest.ACSURL || r.PostForm.Get("SAMLResponse") != "PHJlc3Av" || r.PostForm.Get("RelayState") != "/agent?x=1" {
		t.Fatalf("%s %s %v", r.Method, r.URL, r.PostForm)
	}
	r = samlflextest.ACSPost("x", "")
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.PostForm["RelayState"]; ok {
		t.Fatal("empty relay was sent")
	}
}

func TestManualClock(t *testing.T) {
	t.Parallel()
	c := samlflextest.NewClock(samlflextest.Now)
	c.Advance(time.Minute)
	if got := c.Now(); !got.Equal(samlflextest.Now.Add(time.Minute)) {
		t.Fatalf("after Advance: %v", got)
	}
	c.Set(samlflextest.IssueInstant)
	if got := c.Now(); !got.Equal(samlflextest.IssueInstant) {
		t.Fatalf("after Set: %v", got)
	}
}

// TestFreeAddr: the address is loopback and nothing listens on it.
func TestFreeAddr(t *testing.T) {
	t.Parallel()
	addr := samlflextest.FreeAddr(t)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("addr %s", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port not free: %v", err)
	}
	l.Close()
}

func TestLinesSplitLikeScanLines(t *testing.T) {
	t.Parallel()
	var buf samlflextest.LogBuffer
	fmt.Fprint(&buf, "a\r\n\nb\n \nc")
	if got := strings.Join(buf.Lines(), "|"); got != "a|b| |c" {
		t.Fatalf("Lines = %q", got)
	}
}

func (f *fatalT) Fatal(...any) {
	f.failed = true
	panic("fatal")
}
