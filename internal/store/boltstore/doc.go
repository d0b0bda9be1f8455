// Package boltstore is the embedded store of `samlflex dev` and `samlflex
// serve`: one bbolt file holding the account settings and the one-time
// assertion IDs, so that a single machine needs no database server.
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
