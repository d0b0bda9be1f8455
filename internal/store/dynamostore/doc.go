// Package dynamostore is the production store: account settings and
// one-time assertion IDs in two DynamoDB tables, for the Lambda functions.
//
// It owns the table layout (see Tables), the conditional writes that make
// Put and MarkUsed atomic across concurrent Lambda instances, and the
// translation of AWS SDK errors into the store sentinels:
// ConditionalCheckFailed becomes ErrVersionConflict, ErrNotFound or
// ErrAlreadyExists; throttling, 5xx and network failures (after the SDK's
// own retries) become an error wrapping store.ErrUnavailable. SDK error
// types never leave this package (their text is kept for logs, but not in
// the errors.Is/As chain), so that no caller can come to depend on them
// and the HTTP layer can decide 503 versus 500 with errors.Is alone.
//
// It is the only package that imports the DynamoDB SDK: the Lambda mains
// get their client from NewClient and hand it to New. It must not import
// the other backends or anything above internal/store (httpapi, acs,
// config): the store is a leaf that the ACS use case and the CLI see only
// through store.Store.
//
// It is tested against dynalite (scripts/dynalite), which speaks the real
// DynamoDB protocol but has no TTL and no transactions, so nothing here
// relies on either: expired assertion records are treated as absent by the
// write condition itself, and TTL is only housekeeping. The conformance
// suite and CreateTables also run against moto_server (moto_test.go),
// which has TTL, so the tables are checked in their production shape.
package dynamostore
