// Package storetest is the conformance suite that every store backend must
// pass: Run(t, newStore) is called from the backend's own tests
// (sqlitestore and boltstore always, dynamostore against dynalite), so
// that the in-process store used
// by `samlflex dev` and DynamoDB in production behave the same way, down to
// version conflicts, replay detection and expiry boundaries.
//
// It owns only test code and fixtures. It imports store, samlflex and the
// standard library (testing included, which is why it is a separate
// package and never imported by production code). It must not import any
// backend or the AWS SDK: a suite that knew a backend could be made to pass
// by special cases.
//
// Time is always passed in (a fixed instant), never read from the clock,
// and the suite never sleeps: expiry is tested by passing a later now.
package storetest
