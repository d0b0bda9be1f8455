package lambda_test

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// ddbCounter is a reverse proxy on 127.0.0.1 between the functions and
// dynalite that counts DynamoDB operations by their X-Amz-Target header
// ("DynamoDB_20120810.GetItem"). dynalite itself cannot count, and the
// functions' own clients are out of reach in another process.
type ddbCounter struct {
	url string
	mu  sync.Mutex
	ops map[string]int
}

func newDDBCounter(t *testing.T, target string) *ddbCounter {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	c := &ddbCounter{ops: map[string]int{}}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		// The request is signed for the host the function called.
		r.Out.Host = r.In.Host
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		if op == "" {
			op = "(no X-Amz-Target)"
		}
		c.mu.Lock()
		c.ops[op]++
		c.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c.url = srv.URL
	return c
}

// snapshot returns the counts so far, by operation.
func (c *ddbCounter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.ops)
}
