package dynamostore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/samlflex/samlflex/internal/store"
)

// isServerErrorCode reports whether an API error code means "try again
// later" rather than "this request is wrong". The SDK has already retried
// these by the time they reach us. (A switch, not a map: package variables
// are kept to sentinels.)
func isServerErrorCode(code string) bool {
	switch code {
	case "InternalServerError", "InternalFailure", "ServiceUnavailable",
		"ThrottlingException", "Throttling", "ProvisionedThroughputExceededException",
		"RequestLimitExceeded", "LimitExceededException", "TooManyRequestsException",
		"RequestTimeout", "RequestTimeoutException":
		return true
	}
	return false
}

// isConditionFailed reports whether the write's condition expression was
// false. It is the only SDK error that is an answer rather than a failure.
func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// mapErr turns an SDK error into one that carries only stdlib and store
// errors in its chain. The SDK error's text is kept (it has the request ID
// that AWS support asks for) but flattened with %v, so errors.As can never
// reach an SDK type outside this package.
func mapErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	// The caller's context decides first: a cancelled request (the browser
	// left) is not an outage, while a passed deadline (the Lambda is about
	// to time out) means DynamoDB did not answer in time.
	switch ctxErr := ctx.Err(); {
	case errors.Is(ctxErr, context.Canceled):
		return fmt.Errorf("dynamostore: %s: %w", op, context.Canceled)
	case errors.Is(ctxErr, context.DeadlineExceeded):
		return fmt.Errorf("dynamostore: %s: %w: %w", op, store.ErrUnavailable, context.DeadlineExceeded)
	}
	if unavailable(err) {
		return fmt.Errorf("dynamostore: %s: %w: %v", op, store.ErrUnavailable, err)
	}
	return fmt.Errorf("dynamostore: %s: %v", op, err)
}

// unavailable reports whether err is transient: throttling, a server-side
// fault, or no usable answer at all (network).
func unavailable(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if isServerErrorCode(apiErr.ErrorCode()) || apiErr.ErrorFault() == smithy.FaultServer {
			return true
		}
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		code := respErr.HTTPStatusCode()
		if code >= 500 || code == 429 {
			return true
		}
	}
	// The request never got an answer: refused, reset, DNS, TLS, timeout.
	var sendErr *smithyhttp.RequestSendError
	var netErr net.Error
	if errors.As(err, &sendErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	// The SDK's client-side retry budget is spent: it stopped retrying
	// because too many recent calls failed, which is an outage signal.
	var quotaErr ratelimit.QuotaExceededError
	return errors.As(err, &quotaErr)
}

// newWriteID returns a random token stored with each conditional write;
// see Store.Put for why.
func newWriteID() string { return rand.Text() }
