// Package samlflextest is test support only: the golden fixtures of
// pkg/samlflex/testdata and the values they were signed for, a ready test
// account, static SP keys and a log buffer that parallel handlers can share.
//
// Only _test.go files import it (imports_test.go checks that), so nothing
// here ever ships in a binary. pkg/samlflex cannot use it: that package must
// not import internal packages, and this one imports pkg/samlflex.
//
// Why one kit: before it, each package's tests carried its own copy of the
// golden reader, the account SID and the pinned clock, and the copies had
// started to drift (different clocks, different relative paths).
package samlflextest
