package lambda_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/samlflex/samlflex/internal/awsfake/smfake"
)

// awsCall is one AWS API call a function made, as IAM authorizes it.
type awsCall struct {
	Action   string // "dynamodb:GetItem"
	Resource string // the ARN IAM evaluates
}

func (c awsCall) String() string { return c.Action + " on " + c.Resource }

// callRecorder is a reverse proxy on 127.0.0.1 that one function uses as
// both its DynamoDB and its Secrets Manager endpoint
// (SAMLFLEX_DYNAMODB_ENDPOINT, SAMLFLEX_SECRETSMANAGER_ENDPOINT). Both
// protocols are JSON over POST with an X-Amz-Target header naming the
// operation, so the proxy sees every call: it records the action and the
// resource's ARN, then forwards the request unchanged to dynalite or
// smfake. Nothing in the function knows it is recorded.
type callRecorder struct {
	url string
	// secretARN resolves a SecretId (name or ARN) the way Secrets
	// Manager does before it authorizes the call.
	secretARN func(ctx context.Context, id string) string
	mu        sync.Mutex
	calls     []awsCall
}

func newCallRecorder(t *testing.T, ddbEndpoint string, sm *smfake.Server, smc *secretsmanager.Client) *callRecorder {
	t.Helper()
	ddbURL, err := url.Parse(ddbEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	smURL, err := url.Parse(sm.URL())
	if err != nil {
		t.Fatal(err)
	}
	rec := &callRecorder{secretARN: func(ctx context.Context, id string) string { return resolveSecretARN(ctx, smc, id) }}
	proxy := func(to *url.URL) *httputil.ReverseProxy {
		return &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(to)
			r.Out.Host = r.In.Host // signed for the host the function called
		}}
	}
	toDDB, toSM := proxy(ddbURL), proxy(smURL)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		target := r.Header.Get("X-Amz-Target")
		prefix, op, _ := strings.Cut(target, ".")
		var in struct{ TableName, SecretId string }
		_ = json.Unmarshal(body, &in)
		switch prefix {
		case "DynamoDB_20120810":
			rec.add(awsCall{"dynamodb:" + op, tableARN(in.TableName)})
			toDDB.ServeHTTP(w, r)
		case "secretsmanager":
			rec.add(awsCall{"secretsmanager:" + op, rec.secretARN(r.Context(), in.SecretId)})
			toSM.ServeHTTP(w, r)
		default:
			// Unknown protocol: recorded as such, so the check fails.
			rec.add(awsCall{"unknown:" + target, r.URL.Path})
			http.Error(w, "callRecorder: unknown X-Amz-Target "+target, http.StatusBadRequest)
		}
	}))
	t.Cleanup(srv.Close)
	rec.url = srv.URL
	return rec
}

func (r *callRecorder) add(c awsCall) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
}

// recorded returns the distinct calls so far, sorted.
func (r *callRecorder) recorded() []awsCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.calls)
	slices.SortFunc(out, func(a, b awsCall) int { return strings.Compare(a.String(), b.String()) })
	return slices.Compact(out)
}

// tableARN is the ARN of a table in the emulated account and region.
func tableARN(name string) string {
	return "arn:aws:dynamodb:" + smfake.Region + ":" + smfake.AccountID + ":table/" + name
}

// resolveSecretARN returns the full ARN (with Secrets Manager's random
// suffix) of the secret id names, asking smfake directly (not through a
// recorder). A secret that does not exist is named by
// arn:...:secret:<name>, without a suffix.
func resolveSecretARN(ctx context.Context, smc *secretsmanager.Client, id string) string {
	if strings.HasPrefix(id, "arn:") {
		return id
	}
	out, err := smc.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	var nf *smtypes.ResourceNotFoundException
	switch {
	case err == nil:
		return aws.ToString(out.ARN)
	case errors.As(err, &nf):
		return "arn:aws:secretsmanager:" + smfake.Region + ":" + smfake.AccountID + ":secret:" + id
	default:
		return "unresolved secret " + id + ": " + err.Error()
	}
}
