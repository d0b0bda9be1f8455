package dynamostore

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/dynamostore/dynamoclient"
	"github.com/samlflex/samlflex/internal/store/storetest"
)

// testDB hands out fresh tables on one endpoint. Names carry a random
// per-run prefix so that concurrent runs (two developers, CI shards) on one
// emulator never share a table.
type testDB struct {
	client   *dynamodb.Client
	endpoint string                    // the emulator's URL
	opts     []func(*dynamodb.Options) // what client was built with, for other clients of the same tables
	prefix   string
	n        atomic.Int64
}

func newTestDB(t *testing.T, optFns ...func(*dynamodb.Options)) *testDB {
	t.Helper()
	return newTestDBAt(t, samlflextest.DynamoDBEndpoint(t), optFns...)
}

// newTestDBAt is newTestDB on any emulator's endpoint.
func newTestDBAt(t *testing.T, endpoint string, optFns ...func(*dynamodb.Options)) *testDB {
	t.Helper()
	c, err := dynamoclient.New(t.Context(), endpoint, optFns...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return &testDB{client: c, endpoint: endpoint, opts: optFns, prefix: "samlflex-test-" + strings.ToLower(rand.Text()[:12]) + "-"}
}

// tables creates a new pair of tables and deletes them when t ends.
func (d *testDB) tables(t *testing.T) Tables {
	t.Helper()
	n := d.n.Add(1)
	tb := Tables{
		Accounts:   d.prefix + strconv.FormatInt(n, 10) + "-accounts",
		Assertions: d.prefix + strconv.FormatInt(n, 10) + "-assertions",
	}
	if err := CreateTables(t.Context(), d.client, tb); err != nil {
		t.Fatalf("CreateTables: %v", err)
	}
	t.Cleanup(func() {
		// t.Context() is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, name := range []string{tb.Accounts, tb.Assertions} {
			_, err := d.client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
			// Not found: an SDK retry of a delete whose answer was lost (the
			// suite's leftovers check would see a table that is still there).
			var gone *types.ResourceNotFoundException
			if err != nil && !errors.As(err, &gone) {
				t.Errorf("DeleteTable %s: %v", name, err)
			}
		}
	})
	return tb
}

// leftovers lists this run's tables that exist and are not being deleted
// (DeleteTable returns before the table is gone, in DynamoDB and dynalite).
func (d *testDB) leftovers(t *testing.T) []string {
	t.Helper()
	var left []string
	p := dynamodb.NewListTablesPaginator(d.client, &dynamodb.ListTablesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("ListTables: %v", err)
		}
		for _, name := range page.TableNames {
			if !strings.HasPrefix(name, d.prefix) {
				continue
			}
			out, err := d.client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
			var gone *types.ResourceNotFoundException
			switch {
			case errors.As(err, &gone):
			case err != nil:
				t.Fatalf("DescribeTable %s: %v", name, err)
			case out.Table.TableStatus != types.TableStatusDeleting:
				left = append(left, name+" ("+string(out.Table.TableStatus)+")")
			}
		}
	}
	return left
}

func TestConformance(t *testing.T) {
	t.Parallel()
	runConformance(t, newTestDB(t))
}

// runConformance runs storetest on fresh tables of d and checks that none
// are left behind.
func runConformance(t *testing.T, d *testDB) {
	t.Helper()
	t.Run("storetest", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return New(d.client, d.tables(t)) })
	})
	// t.Run returns after every parallel subtest and its cleanups.
	if left := d.leftovers(t); len(left) != 0 {
		t.Errorf("tables left behind: %v", left)
	}
	if n := d.n.Load(); n == 0 {
		t.Error("the suite created no tables")
	}
}

func TestCreateTables(t *testing.T) {
	t.Parallel()
	checkCreateTables(t, newTestDB(t))
}

// checkCreateTables checks the tables CreateTables makes on d's endpoint.
func checkCreateTables(t *testing.T, d *testDB) Tables {
	t.Helper()
	tb := d.tables(t)
	// A second call (a restarted `samlflex dev`) finds the tables and
	// succeeds.
	if err := CreateTables(t.Context(), d.client, tb); err != nil {
		t.Fatalf("second CreateTables: %v", err)
	}
	for _, tc := range []struct {
		table, key string
	}{
		{tb.Accounts, attrSID},
		{tb.Assertions, attrID},
	} {
		out, err := d.client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(tc.table)})
		if err != nil {
			t.Fatalf("DescribeTable: %v", err)
		}
		desc := out.Table
		if desc.TableStatus != types.TableStatusActive {
			t.Errorf("%s: status %s, want ACTIVE", tc.table, desc.TableStatus)
		}
		if len(desc.KeySchema) != 1 || aws.ToString(desc.KeySchema[0].AttributeName) != tc.key || desc.KeySchema[0].KeyType != types.KeyTypeHash {
			t.Errorf("%s: key schema %+v, want %s HASH only", tc.table, desc.KeySchema, tc.key)
		}
		if desc.BillingModeSummary == nil || desc.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
			t.Errorf("%s: billing mode %+v, want PAY_PER_REQUEST", tc.table, desc.BillingModeSummary)
		}
	}
	if err := CreateTables(t.Context(), d.client, Tables{Accounts: "x"}); err == nil {
		t.Error("CreateTables without an assertions table name succeeded")
	}
	return tb
}
