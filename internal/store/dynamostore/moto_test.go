package dynamostore

import (
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/samlflex/samlflex/internal/awsfake/moto"
)

// motoServer is a second DynamoDB emulator beside dynalite. Unlike
// dynalite it implements TTL (DescribeTimeToLive, UpdateTimeToLive), so
// the tables CreateTables makes here are the production shape: the same
// keys and the TTL attribute the CDK stack declares.
var motoServer moto.Shared

func TestMain(m *testing.M) { os.Exit(motoServer.Run(m)) }

// newMotoDB is newTestDB on moto, in an account of its own.
func newMotoDB(t *testing.T) *testDB {
	t.Helper()
	srv := motoServer.Get(t)
	hc := srv.HTTPClient() // one account for every client of these tables
	return newTestDBAt(t, srv.URL(), func(o *dynamodb.Options) { o.HTTPClient = hc })
}

func TestConformanceMoto(t *testing.T) {
	t.Parallel()
	runConformance(t, newMotoDB(t))
}

// The partial-failure tests on moto: its conditional writes decide the
// same races as dynalite's and DynamoDB's.
func TestFailedCallsWriteNothingMoto(t *testing.T) {
	t.Parallel()
	failedCallsWriteNothing(t, newMotoDB(t))
}

func TestLostResponseIsNotAConflictMoto(t *testing.T) {
	t.Parallel()
	lostResponseIsNotAConflict(t, newMotoDB(t))
}

// On moto, CreateTables also turns on TTL for expiresAt, and only there.
// (A second CreateTables, which checkCreateTables makes, must find TTL on
// rather than enable it again, because DynamoDB refuses that; moto accepts
// it, so that path is proved only by the code reading DescribeTimeToLive
// first, not by moto.)
func TestCreateTablesMoto(t *testing.T) {
	t.Parallel()
	d := newMotoDB(t)
	tb := checkCreateTables(t, d)
	out, err := d.client.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(tb.Assertions)})
	if err != nil {
		t.Fatalf("DescribeTimeToLive: %v", err)
	}
	ttl := out.TimeToLiveDescription
	if ttl == nil || aws.ToString(ttl.AttributeName) != attrExpiresAt || ttl.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("TTL on %s = %+v, want ENABLED on %s", tb.Assertions, ttl, attrExpiresAt)
	}
	out, err = d.client.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(tb.Accounts)})
	if err != nil {
		t.Fatalf("DescribeTimeToLive: %v", err)
	}
	if ttl := out.TimeToLiveDescription; ttl != nil && ttl.TimeToLiveStatus == types.TimeToLiveStatusEnabled {
		t.Errorf("TTL on the accounts table = %+v; account records must never expire", ttl)
	}
}
