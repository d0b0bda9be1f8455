package keys

import (
	"errors"
	"testing"
	"time"
)

func TestRotateNow(t *testing.T) {
	t.Parallel()
	p, c, n, nc, nn := mustGenerate(t, P256, testNow), mustGenerate(t, P256, testNow), mustGenerate(t, P256, testNow), mustGenerate(t, P256, testNow), mustGenerate(t, P256, testNow)
	at := testNow.Add(time.Hour)
	full := &Set{Previous: p, Current: c, Next: n}
	tests := []struct {
		name           string
		retirePrevious bool
		wantPrev       *Pair
	}{
		{"old current stays as previous", false, c},
		{"--retire-previous drops it", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := full.RotateNow(nc, nn, at, tt.retirePrevious)
			if err != nil {
				t.Fatal(err)
			}
			if got.Previous != tt.wantPrev || got.Current.Kid != nc.Kid || got.Next != nn {
				t.Errorf("RotateNow = %s/%s/%s", kidOf(got.Previous), kidOf(got.Current), kidOf(got.Next))
			}
			// The old next key shares the leaked key's storage: never kept.
			if got.ByKid(n.Kid) != nil || got.ByKid(p.Kid) != nil {
				t.Error("the old next or previous key survived")
			}
			if !got.Current.CurrentSince.Equal(at) {
				t.Errorf("current since %v, want %v", got.Current.CurrentSince, at)
			}
			// The old current key retires on the normal schedule.
			if !tt.retirePrevious {
				if Retire(got, at.Add(MaxTokenLifetime), MaxTokenLifetime, DefaultRetireMargin).ByKid(c.Kid) == nil {
					t.Error("previous retired before its time")
				}
				if Retire(got, at.Add(MaxTokenLifetime+DefaultRetireMargin), MaxTokenLifetime, DefaultRetireMargin).ByKid(c.Kid) != nil {
					t.Error("previous not retired on schedule")
				}
			}
			if _, err := MarshalSet(got); err != nil {
				t.Errorf("result cannot be stored: %v", err)
			}
		})
	}
	if _, err := full.RotateNow(n, nn, at, false); err == nil {
		t.Error("RotateNow accepted the old next key as the new current key")
	}
	if _, err := full.RotateNow(nil, nn, at, false); err == nil {
		t.Error("RotateNow accepted a nil key")
	}
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	p, c, n, repl := mustGenerate(t, P256, testNow), mustGenerate(t, P256, testNow), mustGenerate(t, P256, testNow), mustGenerate(t, P256, testNow)
	full := &Set{Previous: p, Current: c, Next: n}
	fresh := func() (*Pair, error) { return repl, nil }
	genErr := errors.New("no entropy")
	tests := []struct {
		name      string
		kid       string
		gen       func() (*Pair, error)
		wantErr   error
		wantKids  string // previous/current/next
		wantNoKid string
	}{
		{"previous", p.Kid, fresh, nil, "nil/" + c.Kid + "/" + n.Kid, p.Kid},
		{"next is replaced", n.Kid, fresh, nil, p.Kid + "/" + c.Kid + "/" + repl.Kid, n.Kid},
		{"current is refused", c.Kid, fresh, ErrRevokeCurrent, "", ""},
		// A token kid (what a JWT header names) revokes its pair.
		{"previous by token kid", p.Token.Kid, fresh, nil, "nil/" + c.Kid + "/" + n.Kid, p.Kid},
		{"next by token kid", n.Token.Kid, fresh, nil, p.Kid + "/" + c.Kid + "/" + repl.Kid, n.Kid},
		{"current by token kid is refused", c.Token.Kid, fresh, ErrRevokeCurrent, "", ""},
		{"unknown kid", "nope", fresh, ErrUnknownKid, "", ""},
		{"replacement fails", n.Kid, func() (*Pair, error) { return nil, genErr }, genErr, "", ""},
		{"replacement not new", n.Kid, func() (*Pair, error) { return c, nil }, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := full.Revoke(tt.kid, tt.gen)
			if tt.wantKids == "" {
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("Revoke = %v, want error %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k := kidOf(got.Previous) + "/" + kidOf(got.Current) + "/" + kidOf(got.Next); k != tt.wantKids {
				t.Errorf("Revoke = %s, want %s", k, tt.wantKids)
			}
			if got.ByKid(tt.wantNoKid) != nil {
				t.Error("revoked key still verifies")
			}
			for _, pp := range got.Published() {
				if pp.Kid == tt.wantNoKid {
					t.Error("revoked key still in metadata")
				}
			}
			if full.Previous != p || full.Current != c || full.Next != n {
				t.Error("Revoke modified its receiver")
			}
		})
	}
}
