// Package testretry holds the retry policies of the tests' AWS SDK
// clients.
//
// A test that injects faults (a 500, a throttle, a server that is down)
// turns the SDK's retries off, so that the fault reaches the code under
// test and request counts are exact. With retries fully off, though, a
// test occasionally fails with "use of closed network connection" after a
// 200: net/http itself closed the connection while the answer's body was
// read, a race between its HTTP/1 read and write loops (aws-sdk-go-v2
// issue 2737). No test injects that error and the SDK retries it in
// production, so OneAttempt retries it, and only it.
//
// The SDK wraps the Retryer of a client whose RetryMaxAttempts option is
// not 0 (retry.AddWithMaxAttempts), which would undo OneAttempt: set the
// Retryer option and leave RetryMaxAttempts 0 (for a client built from an
// aws.Config, set it to 0: AWS_MAX_ATTEMPTS fills it in).
//
// The policies never sleep and have no retry quota (ratelimit.None), so
// retries neither slow tests down nor depend on earlier failures. Each call
// returns a new Retryer; there is no shared state.
package testretry

import (
	"errors"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// ClosedAttempts is how many attempts OneAttempt makes in all when every
// one ends with a closed connection.
const ClosedAttempts = retry.DefaultMaxAttempts

// OneAttempt makes one attempt for every error except a connection closed
// under the request (see ClosedConnection), which it retries, up to
// ClosedAttempts attempts in all.
func OneAttempt() aws.Retryer { return Attempts(1) }

// Attempts makes up to n attempts for the errors the SDK retries by
// default, without sleeping between them; Attempts(1) is OneAttempt.
func Attempts(n int) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = n
		if n == 1 {
			o.MaxAttempts = ClosedAttempts
			o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(ClosedConnection)}
		}
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.RateLimiter = ratelimit.None
	})
}

// ClosedConnection is true for an error caused by a connection closed
// under the request (net.ErrClosed, however the SDK wrapped it), false for
// anything else.
func ClosedConnection(err error) aws.Ternary {
	if errors.Is(err, net.ErrClosed) {
		return aws.TrueTernary
	}
	return aws.FalseTernary
}
