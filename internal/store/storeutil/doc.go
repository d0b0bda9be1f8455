// Package storeutil holds what the file-backed stores (sqlitestore and the
// legacy boltstore) and dynamostore do alike, so that the rules of the
// store.Store contract are written once: Put's argument checks and the
// account JSON every backend keeps, and the background sweep of expired
// assertion IDs. It imports no database driver and no AWS SDK.
package storeutil
