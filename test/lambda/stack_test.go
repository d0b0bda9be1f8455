package lambda_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/samlflex/samlflex/internal/awsfake/smfake"
	"github.com/samlflex/samlflex/internal/awsfake/testretry"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/store/dynamostore"
	"github.com/samlflex/samlflex/internal/store/dynamostore/dynamoclient"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Values of the golden responses in pkg/samlflex/testdata.
const (
	baseURL   = samlflextest.BaseURL
	sid       = samlflextest.AccountSID
	idpIssuer = samlflextest.IdPIssuer
	idpSSOURL = samlflextest.IdPSSOURL
	startURL  = samlflextest.StartURL
)

// setupTimeout bounds each call the test itself makes to dynalite or the
// Secrets Manager stand-in.
const setupTimeout = 30 * time.Second

// stack is what the CDK stack provides the functions in AWS: the two
// tables (dynalite) and the key secret (smfake, in this process; the
// bootstraps reach it over 127.0.0.1).
type stack struct {
	ddbEndpoint string
	// functionsDDB is the DynamoDB endpoint the functions get:
	// ddbEndpoint, or a counting proxy in front of it (see ddbCounter).
	functionsDDB string
	ddb          *dynamodb.Client // the test's own client, to dynalite
	tables       dynamostore.Tables
	sm           *smfake.Server
	smc          *secretsmanager.Client
	// The key set of keysSecret.
	cur, next *keys.Pair
	idpCert   string // PEM
}

// keysSecret holds a key set; the rotation at deploy would have written it.
const keysSecret = "samlflex-keys"

func newStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{ddbEndpoint: samlflextest.DynamoDBEndpoint(t), sm: smfake.New(t), idpCert: samlflextest.Golden(t, "keys/idp-rsa.crt")}
	s.functionsDDB = s.ddbEndpoint
	suffix := strings.ToLower(rand.Text()[:10])
	s.tables = dynamostore.Tables{Accounts: "lambda-accounts-" + suffix, Assertions: "lambda-assertions-" + suffix}

	ctx, cancel := context.WithTimeout(t.Context(), setupTimeout)
	defer cancel()
	ddb, err := dynamoclient.New(ctx, s.ddbEndpoint, func(o *dynamodb.Options) {
		o.Retryer = testretry.OneAttempt()
		o.RetryMaxAttempts = 0 // from AWS_MAX_ATTEMPTS, it would wrap the Retryer
	})
	if err != nil {
		t.Fatal(err)
	}
	s.ddb = ddb
	if err := dynamostore.CreateTables(ctx, ddb, s.tables); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		for _, n := range []string{s.tables.Accounts, s.tables.Assertions} {
			if _, err := ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(n)}); err != nil {
				t.Errorf("deleting table %s: %v", n, err)
			}
		}
	})
	acct := samlflex.Account{AccountSID: sid, FriendlyName: "Salesforce", IdPCertificates: []string{s.idpCert},
		IdPIssuer: idpIssuer, IdPSSOURL: idpSSOURL, StartURL: startURL}
	s.putAccount(t, acct)

	s.smc = secretsmanager.New(secretsmanager.Options{Region: smfake.Region, BaseEndpoint: aws.String(s.sm.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("samlflex-test", "samlflex-test", ""), Retryer: testretry.OneAttempt()})
	// The binaries use the real clock, so the keys are valid now.
	now := time.Now()
	if s.cur, err = keys.Generate(keys.RSA2048, now.Add(-time.Hour), 48*time.Hour, "cur", rand.Reader); err != nil {
		t.Fatal(err)
	}
	if s.next, err = keys.Generate(keys.RSA2048, now.Add(-time.Hour), 48*time.Hour, "next", rand.Reader); err != nil {
		t.Fatal(err)
	}
	blob, err := keys.MarshalSet(&keys.Set{Current: s.cur, Next: s.next})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.smc.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(keysSecret), SecretString: aws.String(string(blob))}); err != nil {
		t.Fatal(err)
	}
	return s
}

// putAccount stores a new account, as `samlflex account put` does.
func (s *stack) putAccount(t *testing.T, acct samlflex.Account) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), setupTimeout)
	defer cancel()
	if _, err := dynamostore.New(s.ddb, s.tables).Put(ctx, acct, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// createEmptySecret creates a secret without a value, as the stack does
// before the first rotation seeds it.
func (s *stack) createEmptySecret(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), setupTimeout)
	defer cancel()
	if _, err := s.smc.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
}

// env is the environment of a function reading secretID: the variables
// the synthesized CDK stack gives that function (infra/testdata/functions.json,
// with this stack's tables, secret and base URL for its placeholders),
// those Lambda sets, and the endpoint overrides. Nothing else: HOME is
// empty so that no ~/.aws config is read.
func (s *stack) env(t *testing.T, function, secretID string) map[string]string {
	t.Helper()
	env := map[string]string{
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
		"HOME":                            t.TempDir(),
		"TZ":                              ":UTC",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_ACCESS_KEY_ID":               "samlflex-test",
		"AWS_SECRET_ACCESS_KEY":           "samlflex-test",
		"AWS_EC2_METADATA_DISABLED":       "true",
		"AWS_LAMBDA_FUNCTION_NAME":        "samlflex-" + function,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     functionTimeout,
	}
	fn, ok := loadStackFunctions(t).Functions[function]
	if !ok {
		t.Fatalf("functions.json has no function %q", function)
	}
	vars := s.vars(function, secretID)
	for k, v := range fn.Environment {
		env[k] = substitute(t, v, vars)
	}
	env["SAMLFLEX_DYNAMODB_ENDPOINT"] = s.functionsDDB
	env["SAMLFLEX_SECRETSMANAGER_ENDPOINT"] = s.sm.URL()
	return env
}

// vars resolves the placeholders of functions.json for function in this
// stack: the tables, the key secret secretID (a name or an ARN: the
// functions accept either) and the base URL, in the emulated account.
func (s *stack) vars(function, secretID string) map[string]string {
	return map[string]string{
		"AWS::Partition": "aws", "AWS::Region": smfake.Region, "AWS::AccountId": smfake.AccountID,
		"AccountsTable": s.tables.Accounts, "AccountsTable.Arn": tableARN(s.tables.Accounts),
		"AssertionsTable": s.tables.Assertions, "AssertionsTable.Arn": tableARN(s.tables.Assertions),
		"KeysSecret": secretID, "HttpApi.ApiEndpoint": baseURL,
		"OwnLogGroup.Arn": "arn:aws:logs:" + smfake.Region + ":" + smfake.AccountID + ":log-group:/aws/lambda/samlflex-" + function,
	}
}

// start runs functions/<name> under the RIE with the stack's environment.
func (s *stack) start(t *testing.T, name, secretID string) *function {
	t.Helper()
	return startFunction(t, name, functionBootstrap(t, name), s.env(t, name, secretID))
}
