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
// Durability: every commit is fsynced (synchronous=FULL). With
// synchronous=NORMAL a WAL commit is durable against a killed process (the
// bytes are in the OS page cache) but not against a power cut or kernel
// crash, which could forget an assertion ID that was already accepted and
// let it be replayed until it expires. Logins are human-paced, so one
// fsync per login costs nothing that matters.
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
