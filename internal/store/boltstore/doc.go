// Package boltstore was the embedded store of `samlflex dev` and `samlflex
// serve` (DIR/samlflex.db) until sqlitestore replaced it, because bbolt's
// file lock kept the account commands out while a server ran. It is kept,
// with its tests, as the reader of boltmigrate, which moves such
// directories to SQLite (some older tests still use it as a fake store;
// new code should use sqlitestore).
//
// It holds the account settings and the one-time assertion IDs in one
// bbolt file.
//
// It owns the file format: bucket "accounts" maps an Account SID to the
// JSON of samlflex.Account (the same JSON that dynamostore keeps, so an
// export from one loads into the other), and bucket "assertions" maps a
// scoped assertion key to its expiry as 8 big-endian bytes of Unix
// nanoseconds.
//
// Atomicity comes from bbolt: it runs one read-write transaction at a time,
// and every check-then-write (version compare, replay check) happens inside
// one Update transaction, so concurrent requests cannot interleave between
// the check and the write. The file lock also keeps a second process out;
// Open waits Options.LockTimeout for it and then fails with ErrInUse rather
// than hanging.
//
// It must not import the AWS SDK or net/http: it is the store of machines
// without AWS, and the HTTP layer sees it only through store.Store.
package boltstore
