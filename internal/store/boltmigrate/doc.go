// Package boltmigrate moves an embedded store from bbolt (boltstore, the
// format of samlflex before SQLite) to SQLite (sqlitestore): the accounts
// with their versions, and the assertion records that have not expired, so
// that neither a setting nor a replay check is lost in the upgrade.
//
// It never deletes data: the bbolt file is renamed (samlflex.db ->
// samlflex.db.migrated), and a failed migration leaves it where it was.
// The SQLite file appears under its final name only once it is complete
// (written to a temporary name, then renamed), so a crash during the
// migration leaves the directory as it was and the next start retries.
//
// It is the only package that imports two backends; it must not import the
// AWS SDK or net/http.
package boltmigrate
