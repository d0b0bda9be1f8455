package dynamostore

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// TableAPI is the part of *dynamodb.Client that CreateTables uses.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

var _ TableAPI = (*dynamodb.Client)(nil)

// CreateTables creates both tables (PAY_PER_REQUEST) if they do not exist,
// waits until they are ACTIVE, and enables TTL on the assertions table's
// expiresAt where the endpoint supports it. It is for tests and `samlflex
// dev`; production tables come from the CDK stack, which declares the
// same keys and TTL attribute. Calling it again is harmless.
func CreateTables(ctx context.Context, client TableAPI, tables Tables) error {
	if tables.Accounts == "" || tables.Assertions == "" {
		return errors.New("dynamostore: create tables: both table names are required")
	}
	for _, t := range []struct{ name, key string }{
		{tables.Accounts, attrSID},
		{tables.Assertions, attrID},
	} {
		_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String(t.name),
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(t.key), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(t.key), KeyType: types.KeyTypeHash}},
		})
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return mapErr(ctx, "create table "+t.name, err)
		}
	}
	for _, name := range []string{tables.Accounts, tables.Assertions} {
		// The SDK waiter's default first delay is 20s; emulators create
		// tables at once and real DynamoDB in seconds.
		w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
			o.MinDelay = 100 * time.Millisecond
			o.MaxDelay = 2 * time.Second
		})
		if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 2*time.Minute); err != nil {
			return mapErr(ctx, "wait for table "+name, err)
		}
	}
	return enableTTL(ctx, client, tables.Assertions)
}

// enableTTL turns on TTL for expiresAt unless it is already on (DynamoDB
// rejects enabling it twice). dynalite has no UpdateTimeToLive; that is
// fine because MarkUsed never relies on TTL (see its doc).
func enableTTL(ctx context.Context, client TableAPI, table string) error {
	d, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return mapErr(ctx, "describe TTL of "+table, err)
	}
	if ttl := d.TimeToLiveDescription; ttl != nil && aws.ToString(ttl.AttributeName) == attrExpiresAt &&
		(ttl.TimeToLiveStatus == types.TimeToLiveStatusEnabled || ttl.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attrExpiresAt),
			Enabled:       aws.Bool(true),
		},
	})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "UnknownOperationException" {
		return nil
	}
	if err != nil {
		return mapErr(ctx, "enable TTL on "+table, err)
	}
	return nil
}
