package keys

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"
)

func kids(ps []*Pair) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Kid)
	}
	return strings.Join(out, ",")
}

func kidOf(p *Pair) string {
	if p == nil {
		return "nil"
	}
	return p.Kid
}

func TestRotate(t *testing.T) {
	t.Parallel()
	p, c, n, nn := mustGenerate(t, P256, testNow), mustGenerate(t, P256, testNow), mustGenerate(t, P256, testNow), mustGenerate(t, P256, testNow)
	c.CurrentSince = testNow.Add(-90 * 24 * time.Hour)
	at := testNow.Add(time.Minute)
	tests := []struct {
		name                        string
		in                          *Set
		wantPrev, wantCur, wantNext *Pair
	}{
		{"full set", &Set{Previous: p, Current: c, Next: n}, c, n, nn},
		{"no previous", &Set{Current: c, Next: n}, c, n, nn},
		{"no next: new pair goes straight to current", &Set{Previous: p, Current: c}, c, nn, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := *tt.in
			got := tt.in.Rotate(nn, at)
			if got.Previous != tt.wantPrev || kidOf(got.Current) != kidOf(tt.wantCur) || got.Next != tt.wantNext {
				t.Errorf("Rotate = %s/%s/%s, want %s/%s/%s",
					kidOf(got.Previous), kidOf(got.Current), kidOf(got.Next),
					kidOf(tt.wantPrev), kidOf(tt.wantCur), kidOf(tt.wantNext))
			}
			// The promoted key records the rotation; the demoted one keeps
			// its own time; the pair objects are not mutated.
			if !got.Current.CurrentSince.Equal(at) {
				t.Errorf("new current since %v, want %v", got.Current.CurrentSince, at)
			}
			// Each pair's token key moves with it: the new current signs
			// tokens with the key published as next's.
			if got.Current.Token != tt.wantCur.Token || got.Previous.Token != tt.wantPrev.Token {
				t.Error("a token key did not move with its pair")
			}
			if !got.Previous.CurrentSince.Equal(c.CurrentSince) {
				t.Errorf("previous since %v, want %v", got.Previous.CurrentSince, c.CurrentSince)
			}
			if !tt.wantCur.CurrentSince.IsZero() {
				t.Error("Rotate modified the promoted pair in place")
			}
			if *tt.in != before {
				t.Error("Rotate modified its receiver")
			}
		})
	}
}

func TestPublishedVerifyingByKid(t *testing.T) {
	t.Parallel()
	p, c, n := mustGenerate(t, P256, testNow), mustGenerate(t, P256, testNow), mustGenerate(t, P256, testNow)
	tests := []struct {
		name          string
		set           *Set
		wantPublished []*Pair
		wantVerifying []*Pair
	}{
		{"full", &Set{Previous: p, Current: c, Next: n}, []*Pair{c, n}, []*Pair{c, p, n}},
		{"current only", &Set{Current: c}, []*Pair{c}, []*Pair{c}},
		{"no next", &Set{Previous: p, Current: c}, []*Pair{c}, []*Pair{c, p}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, want := kids(tt.set.Published()), kids(tt.wantPublished); got != want {
				t.Errorf("Published = %s, want %s", got, want)
			}
			if got, want := kids(tt.set.Verifying()), kids(tt.wantVerifying); got != want {
				t.Errorf("Verifying = %s, want %s", got, want)
			}
			for _, want := range tt.wantVerifying {
				if got := tt.set.ByKid(want.Kid); got != want {
					t.Errorf("ByKid(%s) = %s", want.Kid, kidOf(got))
				}
			}
			if got := tt.set.ByKid("unknown"); got != nil {
				t.Errorf("ByKid(unknown) = %s, want nil", got.Kid)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	good := mustGenerate(t, RSA2048, testNow)
	next := mustGenerate(t, P256, testNow)
	expired, err := Generate(P256, testNow.Add(-48*time.Hour), 24*time.Hour, "old", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	future := mustGenerate(t, P256, testNow.Add(time.Hour))
	broken := &Pair{Kid: good.Kid, Signer: next.Signer, Certificate: good.Certificate}
	tests := []struct {
		name     string
		set      *Set
		wantSlot string // "" means no error
	}{
		{"valid", &Set{Current: good, Next: next}, ""},
		{"missing current", &Set{Next: next}, "current"},
		{"expired previous", &Set{Previous: expired, Current: good}, "previous"},
		{"current not yet valid", &Set{Current: future}, "current"},
		{"current cannot sign for its certificate", &Set{Current: broken}, "current"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.set.Check(testNow, rand.Reader)
			if tt.wantSlot == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var se *SetError
			if !errors.As(err, &se) || se.Slot != tt.wantSlot {
				t.Fatalf("Check = %v, want *SetError for %q", err, tt.wantSlot)
			}
		})
	}
}
