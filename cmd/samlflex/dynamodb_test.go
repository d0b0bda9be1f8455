package main

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/samlflex/samlflex/internal/samlflextest"
	"github.com/samlflex/samlflex/internal/store/dynamostore"
	"github.com/samlflex/samlflex/internal/store/dynamostore/dynamoclient"
)

// TestAccountDynamoDB runs put, get, list and delete against DynamoDB
// (dynalite), through --dynamodb-table and through SAMLFLEX_ACCOUNTS_TABLE.
func TestAccountDynamoDB(t *testing.T) {
	t.Parallel()
	ep := samlflextest.DynamoDBEndpoint(t)
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	tables := dynamostore.Tables{
		Accounts:   "samlflex-cli-accounts-" + hex.EncodeToString(suffix[:]),
		Assertions: "samlflex-cli-assertions-" + hex.EncodeToString(suffix[:]),
	}
	client, err := dynamoclient.New(t.Context(), ep)
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamostore.CreateTables(t.Context(), client, tables); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	cert, _ := testCert(t, dir, "idp.crt")
	storage := []string{"--dynamodb-table", tables.Accounts, "--dynamodb-endpoint", ep}
	put := append(append([]string{"account", "put"}, storage...), fullPut("", sidA, cert)[4:]...)

	r := mustCLI(t, exitOK, nil, put...)
	if !strings.Contains(r.stdout, "Created account "+sidA+" in DynamoDB table "+tables.Accounts) {
		t.Errorf("put: %s", r.stdout)
	}
	mustCLI(t, exitOK, nil, append(append([]string{"account", "put"}, storage...), "--account-sid", sidA, "--friendly-name", "Salesforce prod")...)
	got := decodeAccount(t, mustCLI(t, exitOK, nil, append(append([]string{"account", "get"}, storage...), "--account-sid", sidA, "--output", "json")...).stdout)
	if got.FriendlyName != "Salesforce prod" || got.IdPIssuer != "https://acme.my.salesforce.com" || got.Version != 2 {
		t.Errorf("get: %+v", got)
	}
	// A stale version is a conflict on DynamoDB too.
	if r := mustCLI(t, exitFailure, nil, append(append([]string{"account", "put"}, storage...), "--account-sid", sidA, "--expect-version", "1", "--friendly-name", "x")...); !strings.Contains(r.stderr, "changed by someone else") {
		t.Errorf("conflict: %s", r.stderr)
	}

	// The table may come from the environment, as in the Lambda functions.
	env := map[string]string{"SAMLFLEX_ACCOUNTS_TABLE": tables.Accounts}
	list := mustCLI(t, exitOK, env, "account", "list", "--dynamodb-endpoint", ep).stdout
	if !strings.Contains(list, sidA) || !strings.Contains(list, "Salesforce prod") {
		t.Errorf("list: %s", list)
	}
	if r := mustCLI(t, exitOK, env, "account", "delete", "--dynamodb-endpoint", ep, "--account-sid", sidA); !strings.Contains(r.stdout, "Deleted account "+sidA) {
		t.Errorf("delete: %s", r.stdout)
	}
	mustCLI(t, exitFailure, env, "account", "get", "--dynamodb-endpoint", ep, "--account-sid", sidA)
}
