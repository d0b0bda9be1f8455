package dynamostore

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/dynamostore/dynamoclient"
)

// TestFailedCallsWriteNothing points a second Store at the same tables
// through an endpoint where nothing listens, and checks with the working
// Store that no failed call changed anything, and that a failed Get is
// never mistaken for "no such account".
func TestFailedCallsWriteNothing(t *testing.T) {
	t.Parallel()
	failedCallsWriteNothing(t, newTestDB(t))
}

func failedCallsWriteNothing(t *testing.T, d *testDB) {
	t.Helper()
	tb := d.tables(t)
	good := New(d.client, tb)
	deadClient, err := dynamoclient.New(t.Context(), closedEndpoint(t), fastRetries)
	if err != nil {
		t.Fatal(err)
	}
	dead := New(deadClient, tb)

	a := accountFixture()
	if _, err := good.Put(t.Context(), a, 0, t0); err != nil {
		t.Fatalf("Put: %v", err)
	}
	changed := a
	changed.FriendlyName = "changed"
	key := testSID + "#_first"

	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Get", func() error { _, err := dead.Get(t.Context(), testSID); return err }},
		{"Update", func() error { _, err := dead.Put(t.Context(), changed, 1, t0.Add(time.Minute)); return err }},
		{"Create", func() error { _, err := dead.Put(t.Context(), changed, 0, t0); return err }},
		{"Delete", func() error { return dead.Delete(t.Context(), testSID) }},
		{"MarkUsed", func() error { return dead.MarkUsed(t.Context(), key, t0.Add(time.Minute), t0) }},
	} {
		if err := tc.call(); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s on a closed endpoint: %v, want ErrUnavailable", tc.name, err)
		}
	}
	got, err := good.Get(t.Context(), testSID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Version != 1 || got.FriendlyName != a.FriendlyName || !got.UpdatedAt.Equal(t0) {
		t.Errorf("account changed by failed calls: %q v%d at %v", got.FriendlyName, got.Version, got.UpdatedAt)
	}
	// The assertion was not recorded: its first real use succeeds.
	if err := good.MarkUsed(t.Context(), key, t0.Add(time.Minute), t0); err != nil {
		t.Errorf("MarkUsed after a failed MarkUsed: %v", err)
	}
}

// TestLostResponseIsNotAConflict puts a proxy in front of dynalite that
// lets the first PutItem reach the database but replaces its answer with a
// 500, as a network cut or a DynamoDB fault after commit would. The SDK
// retries the write, whose condition now fails because of the first
// attempt. Put and MarkUsed must recognise their own earlier write (by its
// write_id) instead of reporting a version conflict or a replay.
func TestLostResponseIsNotAConflict(t *testing.T) {
	t.Parallel()
	lostResponseIsNotAConflict(t, newTestDB(t))
}

func lostResponseIsNotAConflict(t *testing.T, d *testDB) {
	t.Helper()
	tb := d.tables(t)
	target, err := url.Parse(d.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var drop atomic.Bool // drop the answer to the next PutItem
	var putItems atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if !strings.HasSuffix(resp.Request.Header.Get("X-Amz-Target"), ".PutItem") {
			return nil
		}
		putItems.Add(1)
		if drop.CompareAndSwap(true, false) {
			_ = resp.Body.Close()
			body := `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"answer lost by test"}`
			resp.StatusCode = http.StatusInternalServerError
			writeDynamoBody(resp.Header, body)
			resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
			resp.ContentLength = int64(len(body))
			resp.Body = io.NopCloser(bytes.NewReader([]byte(body)))
		}
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	// d.opts first: on moto they carry the account the tables are in.
	client, err := dynamoclient.New(t.Context(), srv.URL, append(slices.Clone(d.opts), fastRetries)...)
	if err != nil {
		t.Fatal(err)
	}
	s := New(client, tb)

	if _, err := s.Put(t.Context(), accountFixture(), 0, t0); err != nil {
		t.Fatalf("Put: %v", err)
	}

	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Create", func() error {
			a := accountFixture()
			a.AccountSID = "AC" + strings.Repeat("f", 32)
			_, err := s.Put(t.Context(), a, 0, t0)
			return err
		}},
		{"Update", func() error {
			a := accountFixture()
			a.FriendlyName = "saved once"
			v, err := s.Put(t.Context(), a, 1, t0.Add(time.Minute))
			if err == nil && v != 2 {
				t.Errorf("Update returned version %d, want 2", v)
			}
			return err
		}},
		{"MarkUsed", func() error { return s.MarkUsed(t.Context(), testSID+"#_lost", t0.Add(time.Minute), t0) }},
	} {
		putItems.Store(0)
		drop.Store(true)
		if err := tc.call(); err != nil {
			t.Errorf("%s with a lost first answer: %v", tc.name, err)
		}
		if n := putItems.Load(); n != 2 {
			t.Errorf("%s: %d PutItem attempts reached the emulator, want 2 (lost + retry)", tc.name, n)
		}
	}

	got, err := s.Get(t.Context(), testSID)
	if err != nil || got.Version != 2 || got.FriendlyName != "saved once" {
		t.Errorf("after lost update: %q v%d, %v; want \"saved once\" v2", got.FriendlyName, got.Version, err)
	}
	// The write_id only recognises the same call: a real replay is still
	// caught, and a real conflict still reported.
	if err := s.MarkUsed(t.Context(), testSID+"#_lost", t0.Add(time.Minute), t0); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("second MarkUsed: %v, want ErrAlreadyExists", err)
	}
	if _, err := s.Put(t.Context(), accountFixture(), 1, t0); !errors.Is(err, store.ErrVersionConflict) {
		t.Errorf("stale Put: %v, want ErrVersionConflict", err)
	}
}
