package samlflextest

import (
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// DynamoDBEndpointEnv names the DynamoDB emulator (dynalite) of a test run:
// scripts/dynalite/start.sh PORT starts one, scripts/test.sh sets it.
const DynamoDBEndpointEnv = "SAMLFLEX_TEST_DYNAMODB_ENDPOINT"

// RequireOrSkip skips t with msg, or fails it when CI=true: in CI a missing
// emulator or tool must fail the run rather than silently shrink it.
func RequireOrSkip(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// DynamoDBEndpoint returns the DynamoDB emulator's endpoint, or skips the
// test (fails it with CI=true) when none is set.
func DynamoDBEndpoint(t testing.TB) string {
	t.Helper()
	ep := os.Getenv(DynamoDBEndpointEnv)
	if ep == "" {
		RequireOrSkip(t, DynamoDBEndpointEnv+" is not set; to run the DynamoDB tests:\n"+
			"  pid=$(scripts/dynalite/start.sh 4567)\n"+
			"  "+DynamoDBEndpointEnv+"=http://127.0.0.1:4567 go test ./...\n"+
			"  scripts/dynalite/stop.sh $pid")
	}
	return ep
}

// FreeAddr returns a 127.0.0.1 address whose port was free a moment ago:
// for a server the test starts later on a port it must know first, or
// for an endpoint where nothing listens (connection refused).
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// ManualClock is a settable Now shared by the code under test and the
// fakes it talks to; safe for concurrent use.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
