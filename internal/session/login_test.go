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
	sealed, err := SealLogin(set, st)
	if err != nil {
		t.Fatal(err)
	}
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
			got, err := OpenLogin(tc.keyFor, tc.value, sid, now)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			want := st
			want.Kid = cur.Kid
			if got != want {
				t.Fatalf("opened %+v, want %+v", got, want)
			}
		})
	}
	if _, err := SealLogin(&keys.Set{}, st); err == nil {
		t.Error("sealed without a current key")
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
