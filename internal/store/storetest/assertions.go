package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/samlflex/samlflex/internal/store"
)

func testAssertions(t *testing.T, open func(*testing.T) store.Store) {
	// Keys are scoped by account by the caller ("AC...#assertionID"), so an
	// assertion ID that two IdPs happen to share is not a replay.
	keyA := sid(1) + "#_a1b2c3"
	keyB := sid(2) + "#_a1b2c3"
	exp := t0.Add(5 * time.Minute) // a typical NotOnOrAfter
	farFuture := time.Date(2300, 1, 15, 10, 5, 0, 0, time.UTC)

	type step struct {
		key       string
		expiresAt time.Time
		now       time.Time
		want      error
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"FirstUse", []step{{keyA, exp, t0, nil}}},
		{"Replay", []step{
			{keyA, exp, t0, nil},
			{keyA, exp, t0, store.ErrAlreadyExists},
		}},
		{"ReplayLaterButBeforeExpiry", []step{
			{keyA, exp, t0, nil},
			{keyA, exp, exp.Add(-time.Nanosecond), store.ErrAlreadyExists},
		}},
		{
			// A replay must be caught whatever expiry the replayer's copy
			// claims: the stored expiry decides, not the new one.
			"ReplayWithLongerExpiry", []step{
				{keyA, exp, t0, nil},
				{keyA, exp.Add(time.Hour), t0.Add(time.Minute), store.ErrAlreadyExists},
			},
		},
		{
			// At exactly expiresAt the record has expired ("expiry is
			// after now" is what makes it exist), matching NotOnOrAfter.
			"ExpiredAtBoundaryIsReusable", []step{
				{keyA, exp, t0, nil},
				{keyA, exp.Add(time.Hour), exp, nil},
			},
		},
		{
			// Expired records count as absent (DynamoDB TTL deletes late,
			// emulators never), are overwritten, and the new expiry holds.
			"ExpiredIsReusedWithNewExpiry", []step{
				{keyA, exp, t0, nil},
				{keyA, exp.Add(time.Hour), exp.Add(10 * time.Minute), nil},
				{keyA, exp.Add(time.Hour), exp.Add(11 * time.Minute), store.ErrAlreadyExists},
			},
		},
		{"KeysOfDifferentAccountsAreIndependent", []step{
			{keyA, exp, t0, nil},
			{keyB, exp, t0, nil},
			{keyA, exp, t0, store.ErrAlreadyExists},
			{keyB, exp, t0, store.ErrAlreadyExists},
		}},
		{
			// A record past the year 2262 (an IdP-signed assertion dated
			// far ahead) must not overflow into an already expired one.
			"FarFutureExpiry", []step{
				{keyA, farFuture, t0, nil},
				{keyA, farFuture, t0.Add(time.Hour), store.ErrAlreadyExists},
			},
		},
		{"DifferentIDsAreIndependent", []step{
			{keyA, exp, t0, nil},
			{keyA + "x", exp, t0, nil},
		}},
	} {
		// MarkUsed and MarkUsedDeferred keep one set of records: the steps
		// alternate between them, starting with each.
		for first := range 2 {
			t.Run(fmt.Sprintf("%s/%d", tc.name, first), func(t *testing.T) {
				t.Parallel()
				s := open(t)
				for i, st := range tc.steps {
					name, mark := "MarkUsed", s.MarkUsed
					if (i+first)%2 == 1 {
						name, mark = "MarkUsedDeferred", s.MarkUsedDeferred
					}
					err := mark(t.Context(), st.key, st.expiresAt, st.now)
					checkErr(t, fmt.Sprintf("step %d: %s(%s, now=%s)", i, name, st.key, st.now.Format(time.RFC3339Nano)), err, st.want)
				}
			})
		}
	}
}
