package session

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/samlflextest"
)

const loginSID = samlflextest.AccountSID

func genPair(t *testing.T, name string) *keys.Pair {
	t.Helper()
	return samlflextest.KeyPair(t, keys.P256, name)
}

var testNowLogin = samlflextest.Now

// TestOpenLogin: a sealed cookie opens with every key set that still holds
// its key, and every tampering, foreign key, other account or expiry is
// refused.
func TestOpenLogin(t *testing.T) {
	t.Parallel()
	cur, next, other := genPair(t, "current"), genPair(t, "next"), genPair(t, "other")
	set := &keys.Set{Current: cur, Next: next}
	st := LoginState{RequestID: "_samlflex_1", AccountSID: loginSID, Expires: testNowLogin.Add(time.Minute).Unix(),
		Bounced: testNowLogin.Unix(), Relay: "https://flex.example.com/supervisor"}
	// Sealed without a cache; every case below opens it three ways: without
	// a cache, with a cold one and with one warmed by every case's pairs.
	sealed, err := (*LoginKeys)(nil).Seal(set, st)
	if err != nil {
		t.Fatal(err)
	}
	warm := new(LoginKeys)
	payload, mac, _ := strings.Cut(sealed, ".")
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"r":"_samlflex_evil","a":"` + loginSID + `","e":9999999999,"k":"` + cur.Kid + `"}`))
	tests := []struct {
		name    string
		keyFor  func(string) *keys.Pair
		value   string
		sid     string
		now     time.Time
		wantErr bool
	}{
		{name: "round trip", keyFor: set.ByKid, value: sealed},
		{name: "after a rotation (previous verifies)", keyFor: (&keys.Set{Previous: cur, Current: next}).ByKid, value: sealed},
		{name: "one second before expiry", keyFor: set.ByKid, value: sealed, now: testNowLogin.Add(time.Minute - time.Second)},
		{name: "at expiry", keyFor: set.ByKid, value: sealed, now: testNowLogin.Add(time.Minute), wantErr: true},
		{name: "key retired", keyFor: (&keys.Set{Current: next}).ByKid, value: sealed, wantErr: true},
		{name: "another key under its kid", keyFor: func(string) *keys.Pair { return other }, value: sealed, wantErr: true},
		{name: "other account", keyFor: set.ByKid, value: sealed, sid: "AC00000000000000000000000000000001", wantErr: true},
		{name: "payload swapped", keyFor: set.ByKid, value: forged + "." + mac, wantErr: true},
		{name: "MAC cut", keyFor: set.ByKid, value: payload + "." + mac[:len(mac)-2], wantErr: true},
		{name: "no separator", keyFor: set.ByKid, value: payload, wantErr: true},
		{name: "MAC not base64", keyFor: set.ByKid, value: payload + ".!!", wantErr: true},
		{name: "payload not base64", keyFor: set.ByKid, value: "!!." + mac, wantErr: true},
		{name: "payload not JSON", keyFor: set.ByKid, value: base64.RawURLEncoding.EncodeToString([]byte("x")) + "." + mac, wantErr: true},
		{name: "empty", keyFor: set.ByKid, value: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sid, now := tc.sid, tc.now
			if sid == "" {
				sid = loginSID
			}
			if now.IsZero() {
				now = testNowLogin
			}
			for _, lk := range []struct {
				name string
				k    *LoginKeys
			}{{"no cache", nil}, {"cold cache", new(LoginKeys)}, {"warm cache", warm}} {
				got, err := lk.k.Open(tc.keyFor, tc.value, sid, now)
				if (err != nil) != tc.wantErr {
					t.Fatalf("%s: err %v, want error %v", lk.name, err, tc.wantErr)
				}
				if err != nil {
					continue
				}
				want := st
				want.Kid = cur.Kid
				if got != want {
					t.Fatalf("%s: opened %+v, want %+v", lk.name, got, want)
				}
			}
		})
	}
	if _, err := new(LoginKeys).Seal(&keys.Set{}, st); err == nil {
		t.Error("sealed without a current key")
	}
}

func (k *LoginKeys) cached() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}

// TestLoginKeysCache: a cached key is the derived one, it is derived once
// per pair, the cache is per *Pair (a different key under a cached pair's
// kid gets its own key and fails the MAC), and it stays bounded.
func TestLoginKeysCache(t *testing.T) {
	t.Parallel()
	cur := genPair(t, "current")
	set := &keys.Set{Current: cur}
	st := LoginState{RequestID: "_samlflex_2", AccountSID: loginSID, Expires: testNowLogin.Add(time.Minute).Unix()}
	k := new(LoginKeys)
	sealed, err := k.Seal(set, st)
	if err != nil {
		t.Fatal(err)
	}
	uncached, err := (*LoginKeys)(nil).Seal(set, st)
	if err != nil {
		t.Fatal(err)
	}
	if sealed != uncached {
		t.Fatalf("sealed with the cache %q, without %q", sealed, uncached)
	}
	if _, err := k.Open(set.ByKid, sealed, loginSID, testNowLogin); err != nil {
		t.Fatal(err)
	}
	if n := k.cached(); n != 1 {
		t.Fatalf("%d keys cached after one pair sealed and opened, want 1", n)
	}
	// Another key presented under the cached pair's kid (a forged or
	// replaced key set): its own MAC key, so the cookie fails.
	impostor := genPair(t, "impostor")
	impostor.Kid = cur.Kid
	if _, err := k.Open(func(string) *keys.Pair { return impostor }, sealed, loginSID, testNowLogin); err == nil {
		t.Fatal("a different key under the cached pair's kid opened the cookie")
	}
	// The same key read again (a key refresh makes new *Pair values):
	// derived again, and it opens.
	again := *cur
	if _, err := k.Open(func(string) *keys.Pair { return &again }, sealed, loginSID, testNowLogin); err != nil {
		t.Fatalf("the same key as a new *Pair: %v", err)
	}
	for i := range 2 * maxLoginKeys {
		p := *cur
		if _, err := k.Open(func(string) *keys.Pair { return &p }, sealed, loginSID, testNowLogin); err != nil {
			t.Fatalf("pair %d: %v", i, err)
		}
		if n := k.cached(); n > maxLoginKeys {
			t.Fatalf("%d keys cached, bound %d", n, maxLoginKeys)
		}
	}
}

// BenchmarkOpenLogin: opening a cookie with the MAC key cached and
// derived every time (RSA-2048, the SP key of a default install).
func BenchmarkOpenLogin(b *testing.B) {
	set := &keys.Set{Current: samlflextest.KeyPair(b, keys.RSA2048, "bench")}
	st := LoginState{RequestID: "_samlflex_3", AccountSID: loginSID, Expires: testNowLogin.Add(time.Minute).Unix()}
	for _, bc := range []struct {
		name string
		k    *LoginKeys
	}{{"cached", new(LoginKeys)}, {"derived", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			sealed, err := bc.k.Seal(set, st)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.k.Open(set.ByKid, sealed, loginSID, testNowLogin); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestRecentlyBounced(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		bounced int64
		want    bool
	}{
		{"never", 0, false},
		{"just now", testNowLogin.Unix(), true},
		{"inside the window", testNowLogin.Add(-BounceWindow + time.Second).Unix(), true},
		{"window over", testNowLogin.Add(-BounceWindow).Unix(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := (LoginState{Bounced: tc.bounced}).RecentlyBounced(testNowLogin); got != tc.want {
				t.Fatalf("RecentlyBounced = %v, want %v", got, tc.want)
			}
		})
	}
}
