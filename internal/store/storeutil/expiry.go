package storeutil

import (
	"math"
	"time"
)

// ExpiryNanos is an assertion record's expiry as the stores keep it, Unix
// nanoseconds, saturated: time.Time.UnixNano is undefined past the year
// 2262, and an IdP-signed assertion dated beyond it (accepted when it has no
// NotBefore) would otherwise be stored as already expired, replayable at
// once. Saturated, such a record never expires, which is what it asks for.
func ExpiryNanos(t time.Time) int64 {
	switch {
	case t.After(maxNanos):
		return math.MaxInt64
	case t.Before(minNanos):
		return math.MinInt64
	}
	return t.UnixNano()
}

var (
	maxNanos = time.Unix(0, math.MaxInt64)
	minNanos = time.Unix(0, math.MinInt64)
)
