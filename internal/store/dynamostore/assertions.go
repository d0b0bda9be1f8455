package dynamostore

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/storeutil"
)

// MarkUsed implements store.Assertions with one conditional PutItem:
//
//	attribute_not_exists(id) OR expiresAtNanos <= :now
//
// The second half treats an expired record as absent, because DynamoDB's
// TTL deletes expired items only eventually (up to days later) and dynalite
// never does. It compares nanoseconds so that the boundary is exact and
// matches boltstore; expiresAt (seconds) exists only for TTL.
//
// Like Put, it stores a write_id and reads it back when the condition
// fails, so that a lost response followed by the SDK's retry does not turn
// a first login into a false "replayed".
func (s *Store) MarkUsed(ctx context.Context, key string, expiresAt, now time.Time) error {
	if key == "" {
		return errors.New("dynamostore: mark used: empty key")
	}
	writeID := newWriteID()
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.tables.Assertions),
		Item: map[string]types.AttributeValue{
			attrID:         str(key),
			attrExpiresAt:  num(ttlSeconds(expiresAt)),
			attrExpiresAtN: num(storeutil.ExpiryNanos(expiresAt)),
			attrWriteID:    str(writeID),
		},
		ConditionExpression:       aws.String("attribute_not_exists(#id) OR #exp <= :now"),
		ExpressionAttributeNames:  map[string]string{"#id": attrID, "#exp": attrExpiresAtN},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(now.UnixNano())},
	})
	switch {
	case err == nil:
		return nil
	case !isConditionFailed(err):
		return mapErr(ctx, "mark assertion used", err)
	}
	ours, err := s.wroteLast(ctx, s.tables.Assertions, map[string]types.AttributeValue{attrID: str(key)}, writeID)
	if err != nil {
		return err
	}
	if ours {
		return nil
	}
	return store.ErrAlreadyExists
}

// ttlSeconds rounds up: TTL may delete an item as soon as its expiresAt
// passes, and rounding down would let it delete a record up to a second
// before the assertion expires, reopening a replay window.
func ttlSeconds(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// MarkUsedDeferred implements store.Assertions: MarkUsed, whose record is
// durable when it returns.
func (s *Store) MarkUsedDeferred(ctx context.Context, key string, expiresAt, now time.Time) error {
	return s.MarkUsed(ctx, key, expiresAt, now)
}

// ReplayEpoch implements store.Assertions: no record is ever lost.
func (s *Store) ReplayEpoch() int64 { return 0 }
