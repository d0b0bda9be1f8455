package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/storeutil"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

// Get implements store.Accounts. It reads consistently: an admin who just
// saved expects to see (and edit) that version, and a login right after a
// certificate rollover must use the new certificate.
func (s *Store) Get(ctx context.Context, sid string) (samlflex.Account, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Accounts),
		Key:            map[string]types.AttributeValue{attrSID: str(sid)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return samlflex.Account{}, mapErr(ctx, "get account", err)
	}
	if out.Item == nil {
		return samlflex.Account{}, store.ErrNotFound
	}
	return decodeAccount(out.Item)
}

// Put implements store.Accounts with one conditional PutItem: the create
// condition is attribute_not_exists(account_sid), the update condition
// version = :expected, so two admins saving the same version cannot both
// win, whichever Lambda instance serves them.
//
// Each Put also stores a fresh write_id. If the condition fails, Put reads
// the item back, and if it holds this call's write_id the write was ours:
// an earlier attempt succeeded but its response was lost, and the SDK's
// retry then tripped over it. Without this, a retried update would report
// a version conflict for a save that in fact happened.
func (s *Store) Put(ctx context.Context, a samlflex.Account, expectVersion int64, now time.Time) (int64, error) {
	// The JSON carries Version and UpdatedAt too; the attributes are what
	// conditions use.
	a, cfg, err := storeutil.EncodeAccount("dynamostore", a, expectVersion, now)
	if err != nil {
		return 0, err
	}
	writeID := newWriteID()
	in := &dynamodb.PutItemInput{
		TableName: aws.String(s.tables.Accounts),
		Item: map[string]types.AttributeValue{
			attrSID:       str(a.AccountSID),
			attrVersion:   num(a.Version),
			attrConfig:    str(string(cfg)),
			attrUpdatedAt: str(a.UpdatedAt.Format(time.RFC3339Nano)),
			attrWriteID:   str(writeID),
		},
		ExpressionAttributeNames: map[string]string{"#sid": attrSID},
	}
	if expectVersion == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(#sid)")
	} else {
		// A missing item fails this too (no version attribute): an account
		// deleted since the caller read it is a conflict, not a re-create.
		in.ConditionExpression = aws.String("#v = :expected")
		in.ExpressionAttributeNames = map[string]string{"#v": attrVersion}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":expected": num(expectVersion)}
	}
	_, err = s.db.PutItem(ctx, in)
	switch {
	case err == nil:
		return a.Version, nil
	case !isConditionFailed(err):
		return 0, mapErr(ctx, "put account", err)
	}
	ours, err := s.wroteLast(ctx, s.tables.Accounts, map[string]types.AttributeValue{attrSID: str(a.AccountSID)}, writeID)
	if err != nil {
		return 0, err
	}
	if ours {
		return a.Version, nil
	}
	return 0, store.ErrVersionConflict
}

// List implements store.Accounts with a paginated, consistent Scan. The
// table holds one item per Flex account (tens, not millions), so a Scan
// is cheap and needs no index; DynamoDB returns hash order, so we sort.
func (s *Store) List(ctx context.Context) ([]samlflex.Account, error) {
	p := dynamodb.NewScanPaginator(s.db, &dynamodb.ScanInput{
		TableName:      aws.String(s.tables.Accounts),
		ConsistentRead: aws.Bool(true),
	})
	var out []samlflex.Account
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, mapErr(ctx, "list accounts", err)
		}
		for _, item := range page.Items {
			a, err := decodeAccount(item)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(x, y samlflex.Account) int { return strings.Compare(x.AccountSID, y.AccountSID) })
	return out, nil
}

// Delete implements store.Accounts. The attribute_exists condition gives
// ErrNotFound for a missing account in the same round trip. (If a first
// attempt's response is lost and the SDK retries, the retry reports
// ErrNotFound although this call deleted the account; either way the
// account is gone, which is what the caller wanted.)
func (s *Store) Delete(ctx context.Context, sid string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.tables.Accounts),
		Key:                      map[string]types.AttributeValue{attrSID: str(sid)},
		ConditionExpression:      aws.String("attribute_exists(#sid)"),
		ExpressionAttributeNames: map[string]string{"#sid": attrSID},
	})
	switch {
	case err == nil:
		return nil
	case isConditionFailed(err):
		return store.ErrNotFound
	default:
		return mapErr(ctx, "delete account", err)
	}
}

// wroteLast reports whether the item at key carries writeID, that is,
// whether the last successful write to it was ours. See Put.
func (s *Store) wroteLast(ctx context.Context, table string, key map[string]types.AttributeValue, writeID string) (bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(table),
		Key:                      key,
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#w"),
		ExpressionAttributeNames: map[string]string{"#w": attrWriteID},
	})
	if err != nil {
		return false, mapErr(ctx, "read back after a failed condition", err)
	}
	w, ok := out.Item[attrWriteID].(*types.AttributeValueMemberS)
	return ok && w.Value == writeID, nil
}

// decodeAccount reads an accounts item. The version attribute, not the
// copy inside config, is authoritative because it is what the write
// conditions compare.
func decodeAccount(item map[string]types.AttributeValue) (samlflex.Account, error) {
	sid, _ := item[attrSID].(*types.AttributeValueMemberS)
	cfg, okC := item[attrConfig].(*types.AttributeValueMemberS)
	ver, okV := item[attrVersion].(*types.AttributeValueMemberN)
	if sid == nil || !okC || !okV {
		return samlflex.Account{}, fmt.Errorf("dynamostore: account item is missing %s, %s or %s", attrSID, attrConfig, attrVersion)
	}
	var a samlflex.Account
	if err := json.Unmarshal([]byte(cfg.Value), &a); err != nil {
		return samlflex.Account{}, fmt.Errorf("dynamostore: account %s: corrupt config: %w", sid.Value, err)
	}
	v, err := strconv.ParseInt(ver.Value, 10, 64)
	if err != nil {
		return samlflex.Account{}, fmt.Errorf("dynamostore: account %s: corrupt version %q", sid.Value, ver.Value)
	}
	a.AccountSID = sid.Value
	a.Version = v
	return a, nil
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
