package lambdahttp

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// Fixture names under testdata/events.
const (
	fixtureGET       = "get-login-query-cookies.json"
	fixtureACSPost   = "post-acs-form-base64.json"
	fixturePlainPost = "post-plain-json.json"
)

// readFixture returns the raw JSON of an event fixture.
func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadEvent decodes a fixture into the aws-lambda-go event type. Unknown
// fields are an error so a fixture cannot drift from the real event shape
// through a misspelt key.
func loadEvent(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(readFixture(t, name)))
	dec.DisallowUnknownFields()
	var ev events.APIGatewayV2HTTPRequest
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return ev
}
