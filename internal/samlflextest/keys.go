package samlflextest

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
)

// StaticKeys is a keys.Source that always returns Set: the SP keys of a
// test that does not exercise rotation or key-store outages.
type StaticKeys struct{ Set *keys.Set }

// Keys returns k.Set.
func (k StaticKeys) Keys(context.Context) (*keys.Set, error) { return k.Set, nil }

// KeyPair generates an SP key pair valid from an hour before Now for two
// days, so it is valid at the pinned clock whatever the test adds to it.
func KeyPair(t testing.TB, alg keys.Algorithm, cn string) *keys.Pair {
	t.Helper()
	p, err := keys.Generate(alg, Now.Add(-time.Hour), 48*time.Hour, cn, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
