// Command samlflex is the local face of samlflex, the SAML service provider
// that signs agents in to Twilio Flex with Salesforce as the identity
// provider:
//
//	samlflex dev       everything on this computer, with a demo IdP
//	samlflex serve     the service provider on net/http (embedded store, file keys)
//	samlflex account   put|get|list|delete the settings of a Flex account;
//	                   check a captured response against them, offline
//	samlflex flex      check: an account's Flex connection with Twilio (read-only)
//	samlflex keys      show|rotate|revoke the SP key set (file keys or Secrets Manager)
//	samlflex store     migrate: an older bbolt data directory to SQLite
//	samlflex doctor    check a running deployment from the outside
//	samlflex completion bash|zsh|fish
//	samlflex help      help for any command or group
//
// It owns the command line only: flags (the standard flag package, one
// FlagSet per command, no framework: cli.go dispatches groups and commands,
// suggests the nearest command for a typo, and accepts "--flag false" for
// true/false flags; completion.go derives the shell scripts and
// docs/cli.md is generated from the same help, see reference_test.go),
// the settings of `account put` from one table (account_settings.go), the wiring of the embedded store
// (sqlitestore; boltmigrate for older data directories), the file keys (filekeys), the DynamoDB store for `account`
// (dynamostore, with the default AWS credential chain) and the same
// httpapi handler that runs in Lambda. The demo IdP and landing page come
// from internal/demo and are wired only by `dev`.
//
// It must not import an AWS SDK itself (only through dynamostore, smkeys,
// smclient and doctor; a test checks) nor hold
// business rules: settings are checked by samlflex.Account.Validate, logins
// by httpapi and the samlflex package, so that the CLI, `serve` and Lambda
// cannot disagree.
//
// Exit codes: 0 success, 1 a runtime failure (store unreachable, account
// not found, version conflict), 2 a usage or validation error (bad flag,
// invalid settings; nothing was written). account check: 0 accepted, 1
// refused, 2 usage. Results go to stdout, errors to
// stderr; servers log to stdout (log/slog: text on a terminal, JSON otherwise,
// --log-format); dev prints its start banner to stdout, serve (whose stdout
// a collector may read) to stderr.
package main
