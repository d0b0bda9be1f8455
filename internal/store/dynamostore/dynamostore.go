package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/samlflex/samlflex/internal/store"
)

// API is the part of *dynamodb.Client that Store uses; tests may pass a
// client pointed at dynalite or at a failing server.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var (
	_ API         = (*dynamodb.Client)(nil)
	_ store.Store = (*Store)(nil)
)

// Tables names the two tables. Their layout:
//
//	Accounts:   account_sid (S, partition key), version (N), config (S,
//	            the JSON of samlflex.Account), updated_at (S, RFC 3339
//	            UTC), write_id (S, see Put).
//	Assertions: id (S, partition key; the caller scopes it by account,
//	            "AC...#assertionID"), expiresAt (N, epoch seconds: the TTL
//	            attribute), expiresAtNanos (N, what MarkUsed compares),
//	            write_id (S).
type Tables struct {
	Accounts   string
	Assertions string
}

// Attribute names. They are the storage format: the CDK stack declares
// the keys and the TTL attribute with the same names.
const (
	attrSID        = "account_sid"
	attrVersion    = "version"
	attrConfig     = "config"
	attrUpdatedAt  = "updated_at"
	attrWriteID    = "write_id"
	attrID         = "id"
	attrExpiresAt  = "expiresAt"
	attrExpiresAtN = "expiresAtNanos"
)

// Store is a store.Store on DynamoDB. It is safe for concurrent use and
// holds no state besides the client, so Lambda instances share nothing.
type Store struct {
	db     API
	tables Tables
}

// New returns a Store on the given tables. The client is built once per
// cold start (see NewClient) and owned by the caller.
func New(client API, tables Tables) *Store {
	return &Store{db: client, tables: tables}
}

// Close implements store.Store. It does nothing: the client has no
// resources of its own to release, and it belongs to the caller.
func (s *Store) Close() error { return nil }
