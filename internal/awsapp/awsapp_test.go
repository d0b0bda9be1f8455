package awsapp

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go/logging"

	"github.com/samlflex/samlflex/internal/awsfake/smfake"
	"github.com/samlflex/samlflex/internal/awsfake/testretry"
	"github.com/samlflex/samlflex/internal/config"
	"github.com/samlflex/samlflex/internal/flex/flextest"
	"github.com/samlflex/samlflex/internal/flexconn"
	"github.com/samlflex/samlflex/internal/httpapi"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/store/dynamostore"
	"github.com/samlflex/samlflex/internal/store/dynamostore/dynamoclient"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Values of the golden responses in pkg/samlflex/testdata.
const (
	base = samlflextest.BaseURL
	sid  = samlflextest.AccountSID
)

var now = samlflextest.Now

// countingDDB counts the calls a request makes.
type countingDDB struct {
	*dynamodb.Client
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingDDB) count(op string) {
	c.mu.Lock()
	c.calls[op]++
	c.mu.Unlock()
}

func (c *countingDDB) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

func (c *countingDDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.count("GetItem")
	return c.Client.GetItem(ctx, in, o...)
}

func (c *countingDDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.count("PutItem")
	return c.Client.PutItem(ctx, in, o...)
}

func (c *countingDDB) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	c.count("Scan")
	return c.Client.Scan(ctx, in, o...)
}

type fixture struct {
	cfg  config.Config
	ddb  *countingDDB
	sm   *smfake.Server
	smc  *secretsmanager.Client
	h    http.Handler
	logs *samlflextest.LogBuffer
}

func newFixture(t *testing.T, ddbEndpoint string) *fixture {
	t.Helper()
	ctx := context.Background()
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	cfg := config.Config{BaseURL: base, AccountsTable: "accounts-" + hex.EncodeToString(suffix[:]),
		AssertionsTable: "assertions-" + hex.EncodeToString(suffix[:]), KeysSecretID: "samlflex-keys",
		AccountCacheTTL: time.Minute, KeysCacheTTL: 5 * time.Minute, CertWarnDays: 30}
	client, err := dynamoclient.New(ctx, ddbEndpoint, func(o *dynamodb.Options) {
		o.Retryer = testretry.OneAttempt()
		o.RetryMaxAttempts = 0 // from AWS_MAX_ATTEMPTS, it would wrap the Retryer
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{cfg: cfg, ddb: &countingDDB{Client: client, calls: map[string]int{}}, sm: smfake.New(t), logs: &samlflextest.LogBuffer{}}
	f.smc = secretsmanager.New(secretsmanager.Options{Region: "us-east-1", BaseEndpoint: aws.String(f.sm.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), Retryer: testretry.OneAttempt()})
	// The rotation at deploy seeds the secret; here a set is written
	// directly.
	cur := samlflextest.KeyPair(t, keys.RSA2048, "cur")
	next := samlflextest.KeyPair(t, keys.RSA2048, "next")
	blob, err := keys.MarshalSet(&keys.Set{Current: cur, Next: next})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.smc.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(cfg.KeysSecretID), SecretString: aws.String(string(blob))}); err != nil {
		t.Fatal(err)
	}
	h, err := NewHTTP(cfg, HTTPDeps{DynamoDB: f.ddb, SecretsManager: f.smc, Now: samlflextest.Clock}, slog.New(slog.NewJSONHandler(f.logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	return f
}

func (f *fixture) setupTables(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	tables := dynamostore.Tables{Accounts: f.cfg.AccountsTable, Assertions: f.cfg.AssertionsTable}
	if err := dynamostore.CreateTables(ctx, f.ddb.Client, tables); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, n := range []string{tables.Accounts, tables.Assertions} {
			_, _ = f.ddb.Client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(n)})
		}
	})
	acct := samlflextest.Account(t)
	// These tests post an unsolicited golden response to measure and
	// check one whole login on the AWS wiring; the default bounce has
	// its own tests (internal/acs, internal/httpapi, the browser suite).
	acct.IdPInitiated = samlflex.IdPInitiatedAccept
	if _, err := dynamostore.New(f.ddb.Client, tables).Put(ctx, acct, 0, now); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) post(t *testing.T, file string) *http.Response {
	t.Helper()
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, samlflextest.ACSPost(samlflextest.Golden(t, file), ""))
	return w.Result()
}

func (f *fixture) get(path string) *http.Response {
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, base+path, nil))
	return w.Result()
}

// TestWarmLoginCost: after a cold start has read the account and the keys,
// a login is one conditional write and nothing else: no account read
// (cached for the TTL), no Secrets Manager call (keys cached).
func TestWarmLoginCost(t *testing.T) {
	t.Parallel()
	f := newFixture(t, samlflextest.DynamoDBEndpoint(t))
	f.setupTables(t)
	smBefore := f.sm.Requests("")
	if r := f.get("/v1/Accounts/" + sid + "/saml2/metadata"); r.StatusCode != 200 {
		t.Fatalf("metadata %d", r.StatusCode)
	}
	cold := f.ddb.snapshot()
	smCold := f.sm.Requests("")
	if cold["GetItem"] != 1 || smCold-smBefore != 1 {
		t.Fatalf("cold start: %v DynamoDB calls, %d Secrets Manager calls", cold, smCold-smBefore)
	}
	r := f.post(t, "unsolicited.b64")
	if r.StatusCode != http.StatusSeeOther {
		body, _ := io.ReadAll(r.Body)
		t.Fatalf("login %d %s\n%s", r.StatusCode, r.Header.Get("X-Samlflex-Error"), body)
	}
	warm := f.ddb.snapshot()
	if warm["GetItem"]-cold["GetItem"] != 0 || warm["PutItem"]-cold["PutItem"] != 1 || warm["Scan"] != 0 {
		t.Fatalf("warm login DynamoDB calls: before %v after %v", cold, warm)
	}
	if f.sm.Requests("") != smCold {
		t.Fatalf("warm login called Secrets Manager")
	}
	// Replay: refused by the conditional write.
	if r := f.post(t, "unsolicited.b64"); r.Header.Get("X-Samlflex-Error") != string(samlflex.CodeAssertionReplayed) {
		t.Fatalf("replay: %d %s", r.StatusCode, r.Header.Get("X-Samlflex-Error"))
	}
}

// TestSecretsManagerDownKeepsLoginsGoing: keys cached, Secrets Manager
// unreachable: logins go on.
func TestSecretsManagerDownKeepsLoginsGoing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, samlflextest.DynamoDBEndpoint(t))
	f.setupTables(t)
	if r := f.get("/.well-known/jwks.json"); r.StatusCode != 200 {
		t.Fatalf("jwks %d", r.StatusCode)
	}
	f.sm.SetDown(true)
	if r := f.post(t, "unsolicited.b64"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login with Secrets Manager down: %d %s", r.StatusCode, r.Header.Get("X-Samlflex-Error"))
	}
}

// TestDynamoDBDownFailsClosed: with DynamoDB unreachable the ACS answers
// 503 store_unavailable, and no token is issued.
func TestDynamoDBDownFailsClosed(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer dead.Close()
	f := newFixture(t, dead.URL)
	r := f.post(t, "unsolicited.b64")
	body, _ := io.ReadAll(r.Body)
	if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("X-Samlflex-Error") != string(samlflex.CodeStoreUnavailable) ||
		r.Header.Get("Location") != "" || bytes.Contains(body, []byte("token")) {
		t.Fatalf("got %d %s %s", r.StatusCode, r.Header.Get("X-Samlflex-Error"), r.Header.Get("Location"))
	}
}

// TestRotateDispatch: the rotate function routes the EventBridge scan to
// the certificate watch (EMF line with the minimum days) and refuses
// unknown events.
func TestRotateDispatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, samlflextest.DynamoDBEndpoint(t))
	f.setupTables(t)
	var emf bytes.Buffer
	handle, err := NewRotate(f.cfg, RotateDeps{DynamoDB: f.ddb, SecretsManager: f.smc, EMF: &emf, Now: samlflextest.Clock}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := handle(context.Background(), json.RawMessage(`{"action":"scan_idp_certificates"}`)); err != nil {
		t.Fatal(err)
	}
	// Two metrics: the key set's age (first) and the certificate minimum.
	var minDays, age *float64
	for _, raw := range bytes.Split(bytes.TrimSpace(emf.Bytes()), []byte("\n")) {
		var line struct {
			Min *float64 `json:"MinIdPCertificateDaysToExpiry"`
			Age *float64 `json:"SPKeySetAgeDays"`
		}
		if err := json.Unmarshal(raw, &line); err != nil {
			t.Fatalf("EMF line %s: %v", raw, err)
		}
		minDays, age = cmp.Or(line.Min, minDays), cmp.Or(line.Age, age)
	}
	if minDays == nil || *minDays < 400 || *minDays > 600 || age == nil {
		t.Fatalf("EMF %s: want MinIdPCertificateDaysToExpiry and SPKeySetAgeDays", emf.String())
	}
	if err := handle(context.Background(), json.RawMessage(`{"detail-type":"Scheduled Event"}`)); err == nil {
		t.Fatal("unknown event accepted")
	}
	// A rotation step reaches the rotator (which refuses: rotation is not
	// enabled on this secret).
	ev := `{"SecretId":"samlflex-keys","ClientRequestToken":"tok","Step":"createSecret"}`
	if err := handle(context.Background(), json.RawMessage(ev)); err == nil || !strings.Contains(err.Error(), "createSecret") {
		t.Fatalf("rotation event: %v", err)
	}
}

// TestFlexLoginOnAWS: with SAMLFLEX_FLEX_SECRET_PREFIX set, an account with
// a Flex connection reads its API key secret from Secrets Manager
// (prefix + Account SID), provisions the user and delivers the Flex token.
func TestFlexLoginOnAWS(t *testing.T) {
	t.Parallel()
	f := newFixture(t, samlflextest.DynamoDBEndpoint(t))
	tw := flextest.New(t, flextest.Options{Now: samlflextest.Clock})
	f.cfg.FlexSecretPrefix = "samlflex/test/flex/"
	h, err := NewHTTP(f.cfg, HTTPDeps{DynamoDB: f.ddb, SecretsManager: f.smc, Now: samlflextest.Clock, FlexBaseURL: tw.URL}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	f.setupTables(t)
	ctx := context.Background()
	st := dynamostore.New(f.ddb.Client, dynamostore.Tables{Accounts: f.cfg.AccountsTable})
	acct, err := st.Get(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	acct.Flex = &samlflex.FlexConnection{InstanceSID: flextest.InstanceSID, APIKeySID: flextest.APIKeySID, DeliveryURL: "https://flex-app.example.com/"}
	if _, err := st.Put(ctx, acct, acct.Version, now); err != nil {
		t.Fatal(err)
	}
	if err := flexconn.NewSMSecrets(f.smc, f.cfg.FlexSecretPrefix, 0, samlflextest.Clock).PutAPISecret(ctx, sid, flextest.APISecret); err != nil {
		t.Fatal(err)
	}
	r := f.post(t, "unsolicited.b64")
	toks := tw.Tokens()
	if r.StatusCode != http.StatusSeeOther || len(toks) != 1 || r.Header.Get("Location") != "https://flex-app.example.com/#token="+toks[0].AccessToken {
		t.Fatalf("%d %s %q tokens=%d", r.StatusCode, r.Header.Get("X-Samlflex-Error"), r.Header.Get("Location"), len(toks))
	}
}

// TestSDKLogsAreJSON: the SDK's own log lines go through slog.
func TestSDKLogsAreJSON(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	sdkLogger{slog.New(slog.NewJSONHandler(&buf, nil))}.Logf(logging.Warn, "failed to %s", "discard")
	var line struct{ Level, Msg, Detail string }
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line.Level != "WARN" || line.Msg != "aws_sdk" || line.Detail != "failed to discard" {
		t.Fatalf("%q %v", buf.String(), err)
	}
}

// TestEnvCredentials: the functions take the role's credentials from the
// Lambda environment and say clearly when they are missing.
func TestEnvCredentials(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "token")
	c, err := envCredentials{}.Retrieve(context.Background())
	if err != nil || c.AccessKeyID != "AKIDEXAMPLE" || c.SessionToken != "token" {
		t.Fatalf("%+v %v", c, err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	if _, err := (envCredentials{}).Retrieve(context.Background()); err == nil {
		t.Fatal("missing credentials accepted")
	}
	t.Setenv("AWS_REGION", "")
	if _, err := NewClients(context.Background(), config.Config{}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("missing region accepted")
	}
}

// TestMaxRequestBodyCoversEveryAccount: the functions' body cap is the
// largest SAMLResponse cap an account may have plus httpapi's allowance for
// the other form fields. If pkg/samlflex raises its limit, this fails
// until MaxRequestBody follows (else the adapter would refuse requests an
// account accepts).
func TestMaxRequestBodyCoversEveryAccount(t *testing.T) {
	t.Parallel()
	acct := func(limit int) *samlflex.Account {
		a := samlflextest.Account(t)
		a.MaxResponseBytes = limit
		return &a
	}
	largest := samlflex.LargestMaxResponseBytes
	if want := min(httpapi.BodyLimit(largest), lambdaBodyCeiling); MaxRequestBody != want {
		t.Fatalf("MaxRequestBody = %d, want min(httpapi.BodyLimit(%d), %d) = %d", MaxRequestBody, largest, lambdaBodyCeiling, want)
	}
	// An account on the default cap gets everything httpapi accepts, even
	// URL-encoded at worst. (Near the largest cap Lambda's payload limit
	// binds first; docs/aws.md says so.)
	if need := httpapi.BodyLimit(samlflex.DefaultMaxResponseBytes); MaxRequestBody < need {
		t.Fatalf("MaxRequestBody = %d refuses bodies httpapi accepts for the default cap (%d)", MaxRequestBody, need)
	}
	if err := acct(largest).Validate(now); err != nil {
		t.Fatalf("an account with max_response_bytes %d (the largest MaxRequestBody covers) is refused: %v", largest, err)
	}
	if err := acct(largest + 1).Validate(now); err == nil || !strings.Contains(err.Error(), "max_response_bytes") {
		t.Fatalf("max_response_bytes %d accepted (%v): accounts may now exceed MaxRequestBody", largest+1, err)
	}
}
