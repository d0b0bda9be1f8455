package acs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/session"
	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/boltstore"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// The golden responses of pkg/samlflex/testdata name these.
const (
	testBase    = samlflextest.BaseURL
	testSID     = samlflextest.AccountSID
	goldenReqID = samlflextest.RequestID
	startURL    = samlflextest.StartURL
	altURL      = "https://flex.example.com/supervisor"
)

var testNow = samlflextest.Now

var errOutage = errors.New("injected outage")

// faultStore is the embedded store with injectable outages, counting the
// one-time writes that reached it.
type faultStore struct {
	*boltstore.Store
	getErr  error
	markErr error
	epoch   int64        // the replay epoch it reports
	marks   atomic.Int32 // both kinds
	// deferred counts the MarkUsedDeferred calls among marks.
	deferred atomic.Int32
	gets     atomic.Int32

	mu          sync.Mutex
	lastKey     string
	lastExpires time.Time
	// crashModel, when set, replaces the store's records.
	crashModel *crashModel
}

func (f *faultStore) Get(ctx context.Context, sid string) (samlflex.Account, error) {
	f.gets.Add(1)
	if f.getErr != nil {
		return samlflex.Account{}, f.getErr
	}
	return f.Store.Get(ctx, sid)
}

func (f *faultStore) MarkUsed(ctx context.Context, key string, expiresAt, now time.Time) error {
	f.marks.Add(1)
	f.mu.Lock()
	f.lastKey, f.lastExpires = key, expiresAt
	model := f.crashModel
	if model != nil {
		defer f.mu.Unlock()
		return model.mark(key, true)
	}
	f.mu.Unlock()
	if f.markErr != nil {
		return f.markErr
	}
	return f.Store.MarkUsed(ctx, key, expiresAt, now)
}

// MarkUsedDeferred is MarkUsed, counted apart. With crashModel set, the
// two kinds of records are kept apart, and crash loses the deferred ones.
func (f *faultStore) MarkUsedDeferred(ctx context.Context, key string, expiresAt, now time.Time) error {
	f.deferred.Add(1)
	f.mu.Lock()
	model := f.crashModel
	f.mu.Unlock()
	if model == nil {
		return f.MarkUsed(ctx, key, expiresAt, now)
	}
	f.marks.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return model.mark(key, false)
}

// crashModel is a store's records as a machine crash sees them: durable
// ones (MarkUsed) survive it, deferred ones (MarkUsedDeferred) do not.
type crashModel struct{ durable, deferred map[string]bool }

func (m *crashModel) mark(key string, durable bool) error {
	if m.durable[key] || m.deferred[key] {
		return store.ErrAlreadyExists
	}
	if durable {
		m.durable[key] = true
	} else {
		m.deferred[key] = true
	}
	return nil
}

// crash loses the deferred records and moves the epoch on, as the first
// Open after a machine crash does.
func (f *faultStore) crash() {
	f.mu.Lock()
	f.crashModel.deferred = map[string]bool{}
	f.epoch++
	f.mu.Unlock()
}

func (f *faultStore) ReplayEpoch() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.epoch
}

// fakeKeys is a keys.Source: a fixed set, or an outage.
type fakeKeys struct {
	set *keys.Set
	err error
}

func (k fakeKeys) Keys(context.Context) (*keys.Set, error) { return k.set, k.err }

func testAccount(t *testing.T, mode samlflex.IdPInitiatedMode) samlflex.Account {
	t.Helper()
	a := samlflextest.Account(t)
	a.AllowedRedirects, a.IdPInitiated, a.ClockSkew = []string{altURL}, mode, samlflex.Duration(2*time.Minute)
	return a
}

// fixture is one Service over the embedded store holding one account.
type fixture struct {
	svc   *Service
	st    *faultStore
	set   *keys.Set
	logs  *bytes.Buffer
	prov  *fakeProvisioner
	cfg   Config
	accts int64 // stored version of the account
}

type fakeProvisioner struct{ calls atomic.Int32 }

func (p *fakeProvisioner) Provision(context.Context, *samlflex.Account, samlflex.FlexIdentity) (string, error) {
	p.calls.Add(1)
	return "flex-token", nil
}

// newFixture stores acct and builds a Service; edit may change the
// Config (e.g. drop the provisioner) before New.
func newFixture(t *testing.T, acct samlflex.Account, edit func(*Config)) *fixture {
	t.Helper()
	bolt, err := boltstore.Open(filepath.Join(t.TempDir(), "samlflex.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bolt.Close() })
	st := &faultStore{Store: bolt}
	v, err := st.Put(context.Background(), acct, 0, testNow)
	if err != nil {
		t.Fatal(err)
	}
	set := &keys.Set{Current: samlflextest.KeyPair(t, keys.P256, "acs test")}
	// One buffer per fixture, read after Handle returns: slog's handler
	// serialises the writes, so it needs no lock of its own.
	logs, prov := &bytes.Buffer{}, &fakeProvisioner{}
	cfg := Config{BaseURL: testBase, Store: st, Keys: fakeKeys{set: set}, Provisioner: prov,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Now: samlflextest.Clock}
	if edit != nil {
		edit(&cfg)
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, st: st, set: set, logs: logs, prov: prov, cfg: cfg, accts: v}
}

// cookie seals a login cookie for the fixture's account, one minute left
// unless st says otherwise.
func (f *fixture) cookie(t *testing.T, st session.LoginState) string {
	t.Helper()
	if st.AccountSID == "" {
		st.AccountSID = testSID
	}
	if st.Expires == 0 {
		st.Expires = testNow.Add(time.Minute).Unix()
	}
	v, err := new(session.LoginKeys).Seal(f.set, st)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// update rewrites the stored account (the admin fixing its settings).
func (f *fixture) update(t *testing.T, edit func(*samlflex.Account)) {
	t.Helper()
	a, err := f.st.Get(context.Background(), testSID)
	if err != nil {
		t.Fatal(err)
	}
	edit(&a)
	if f.accts, err = f.st.Put(context.Background(), a, a.Version, testNow); err != nil {
		t.Fatal(err)
	}
}
