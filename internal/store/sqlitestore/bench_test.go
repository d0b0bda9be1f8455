package sqlitestore

import (
	"fmt"
	"testing"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// BenchmarkMarkUsed is the store's cost per login: one fsynced commit
// (synchronous=FULL). The fsync dominates, so the number depends on the
// disk under TMPDIR.
func BenchmarkMarkUsed(b *testing.B) {
	s, err := Open(b.TempDir()+"/samlflex.sqlite", Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	exp := t0.Add(time.Hour)
	i := 0
	for b.Loop() {
		if err := s.MarkUsed(b.Context(), fmt.Sprintf("AC1#_%d", i), exp, t0); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkGet is the cost of the account read that serve does at every
// login and metadata request (no cache, so that changes apply at once).
func BenchmarkGet(b *testing.B) {
	s, err := Open(b.TempDir()+"/samlflex.sqlite", Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	a := samlflex.Account{AccountSID: "AC1", FriendlyName: "bench", IdPCertificates: []string{"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}}
	if _, err := s.Put(b.Context(), a, 0, t0); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Get(b.Context(), "AC1"); err != nil {
			b.Fatal(err)
		}
	}
}
