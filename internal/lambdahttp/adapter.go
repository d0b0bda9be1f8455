package lambdahttp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/aws/aws-lambda-go/events"
)

// DefaultMaxBody is the request body cap used when Options.MaxBody is not
// set. A Salesforce POST-binding SAMLResponse is tens of KiB even with many
// attributes; 1 MiB leaves headroom while bounding what one request can make
// a handler parse.
const DefaultMaxBody int64 = 1 << 20

// Options tunes an Adapter. The zero value is the production setting.
type Options struct {
	// MaxBody caps the decoded request body in bytes; a larger body is
	// answered with 413 and never reaches the handler. Zero or negative
	// means DefaultMaxBody: there is deliberately no "unlimited".
	MaxBody int64
}

// Adapter serves API Gateway HTTP API v2 events with an http.Handler.
// It is safe for concurrent use if the handler is.
type Adapter struct {
	h       http.Handler
	logger  *slog.Logger
	maxBody int64
}

// New returns an Adapter with default Options. A nil logger discards logs.
func New(h http.Handler, logger *slog.Logger) *Adapter {
	return NewWithOptions(h, logger, Options{})
}

// NewWithOptions returns an Adapter configured by opts. A nil logger
// discards logs.
func NewWithOptions(h http.Handler, logger *slog.Logger, opts Options) *Adapter {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	maxBody := opts.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	return &Adapter{h: h, logger: logger, maxBody: maxBody}
}

// Handle translates ev into an *http.Request whose context is ctx (so the
// handler sees the Lambda deadline), runs the handler, and translates what it
// wrote into the response. It has the shape lambda.Start expects.
//
// The error is always nil: bad input, oversized bodies and handler panics
// become 4xx/5xx responses, because a Lambda error makes API Gateway answer
// with its own 500 and logs the error text outside our structured log.
func (a *Adapter) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	requestID := ev.RequestContext.RequestID
	r, err := newRequest(ctx, ev, a.maxBody)
	if err != nil {
		status := http.StatusBadRequest
		var re *requestError
		if errors.As(err, &re) {
			status = re.status
		}
		// Logged here because the HTTP layer's access log never sees a
		// request we refuse. err never holds the body or cookies.
		a.logger.WarnContext(ctx, "lambdahttp: request refused",
			"request_id", requestID, "status", status, "err", err)
		return plainResponse(status), nil
	}
	return a.serve(r, requestID), nil
}

// serve runs the handler, turning a panic into a generic 500 so one bad
// request cannot fail the invocation, and so the panic text (which may
// contain input) never reaches the client.
func (a *Adapter) serve(r *http.Request, requestID string) (resp events.APIGatewayV2HTTPResponse) {
	w := newResponseWriter(r.Method)
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		a.logger.ErrorContext(r.Context(), "lambdahttp: handler panicked",
			"request_id", requestID, "err", fmt.Sprint(p), "stack", string(debug.Stack()))
		// Whatever the handler had written is discarded: a half-written
		// response (say, a 303 without its cookies) is worse than a 500.
		resp = plainResponse(http.StatusInternalServerError)
	}()
	a.h.ServeHTTP(w, r)
	return w.result()
}

// plainResponse is the adapter's own answer when the handler cannot or did
// not produce one. The body is the bare status text: it never echoes input.
func plainResponse(status int) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers: map[string]string{
			"Content-Type":           "text/plain; charset=utf-8",
			"X-Content-Type-Options": "nosniff",
			"Cache-Control":          "no-store",
		},
		Body: http.StatusText(status) + "\n",
	}
}
