// Package certwatch finds IdP signing certificates that are about to expire
// and reports them as log events and CloudWatch metrics. Salesforce IdP
// certificates are typically valid for one or two years; when the only
// trusted one expires, every login of that Flex account fails
// (certificate_expired), so admins need weeks of warning, not an outage.
//
// Scan is pure (accounts and a time in, findings out); Report writes the
// slog events and Embedded Metric Format lines. A scheduled function lists
// the accounts from the store and calls both.
//
// Must not import an AWS SDK nor net/http: metrics leave as EMF log lines,
// which CloudWatch Logs turns into metrics without an API call.
package certwatch
