// Package sqlitestore is the embedded store of `samlflex dev` and `samlflex
// serve`: one SQLite file (DIR/samlflex.sqlite) holding the account
// settings and the one-time assertion IDs, so that a single machine needs no
// database server.
//
// Why SQLite in WAL mode, and not bbolt (boltstore, its predecessor): bbolt
// locks its file for the life of the process, so `samlflex account put`
// failed while `serve` ran. SQLite's WAL mode lets several processes read
// and write one file at once (readers never block; writers queue for a few
// milliseconds, bounded by busy_timeout). The driver is modernc.org/sqlite,
// SQLite translated to Go: no cgo, so `go build` and cross-compiling keep
// working.
//
// Durability: every commit is fsynced (synchronous=FULL) except
// MarkUsedDeferred's (synchronous=NORMAL, on a pool of its own), which
// survives a killed process but not a kernel crash or power cut. The
// replay epoch (epoch.go) makes that safe: a handle left open by a boot
// that ended without Close makes the next Open move it on, and the ACS
// relies on a deferred record only for a login started in the current
// epoch.
//
// Atomicity: every check-then-write is one SQL statement (an UPDATE or
// INSERT with the condition in its WHERE clause), so no other connection or
// process can interleave between the check and the write. Multi-statement
// transactions begin IMMEDIATE (take the write lock first), so they never
// fail half-way on a lock upgrade.
//
// It owns the file format: table accounts (sid, version, the JSON of
// samlflex.Account, the same JSON that boltstore and dynamostore keep),
// table assertions (key, expiry in Unix nanoseconds) and table
// schema_version, which Open uses to upgrade the file in place and to
// refuse a file written by a newer samlflex.
//
// It must not import the AWS SDK or net/http: it is the store of machines
// without AWS, and the HTTP layer sees it only through store.Store.
package sqlitestore
