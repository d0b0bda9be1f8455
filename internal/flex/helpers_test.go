package flex

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/flex/flextest"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// goodCreds are the stand-in's credentials.
var goodCreds = Creds{Username: flextest.APIKeySID, Secret: flextest.APISecret, AccountSID: flextest.AccountSID}

// fakeClock is a Now and a Sleep that advances it, so retry budgets of
// seconds run in microseconds and deterministically.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	f.slept = append(f.slept, d)
	return nil
}

func (f *fakeClock) Slept() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.slept...)
}

// env is one stand-in server plus a client wired to it on a fake clock.
type env struct {
	srv   *flextest.Server
	c     *Client
	clock *fakeClock
	logs  *samlflextest.LogBuffer
}

// newEnv starts a stand-in and a client with a fake clock, a fixed jitter
// and debug logging into env.logs. mod may adjust the client's options.
func newEnv(t *testing.T, so flextest.Options, mod func(*Options)) env {
	t.Helper()
	clock := newFakeClock()
	if so.Now == nil {
		so.Now = clock.Now
	}
	e := env{srv: flextest.New(t, so), clock: clock, logs: &samlflextest.LogBuffer{}}
	opts := Options{
		BaseURL: e.srv.URL,
		Now:     clock.Now,
		Sleep:   clock.Sleep,
		Rand:    func() float64 { return 0.5 },
		Logger:  newJSONLogger(e.logs),
	}
	if mod != nil {
		mod(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.c = c
	return e
}

// wantCode fails the test unless err is a *samlflex.Error with code want.
func wantCode(t *testing.T, err error, want samlflex.Code) {
	t.Helper()
	var se *samlflex.Error
	if !errors.As(err, &se) {
		t.Fatalf("error = %v (%T), want *samlflex.Error with code %s", err, err, want)
	}
	if se.Code != want {
		t.Fatalf("code = %s, want %s (err: %v)", se.Code, want, err)
	}
	if se.Public != samlflex.PublicMessage(want) {
		t.Errorf("Public = %q, want the fixed message of %s", se.Public, want)
	}
}

func alice() Identity {
	return Identity{
		Identity: "alice@example.com",
		FullName: "Alice Example",
		Email:    "alice@example.com",
		Roles:    []string{"agent", "supervisor"},
	}
}

// newJSONLogger logs everything, as production JSON, into w.
func newJSONLogger(w *samlflextest.LogBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// realTimeTinyBackoff runs a client on the real clock with millisecond
// waits, for tests where another request must make real progress (a racing
// create) while this one backs off.
func realTimeTinyBackoff(o *Options) {
	o.Now, o.Sleep = time.Now, nil
	o.BackoffBase, o.BackoffMax = time.Millisecond, 4*time.Millisecond
}
