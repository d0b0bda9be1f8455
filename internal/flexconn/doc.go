// Package flexconn connects a successful SAML login to Twilio Flex: it
// implements acs.Provisioner with the flex client, and keeps each
// account's Twilio secret (API key secret or Auth Token) in the key/secret store (a 0600 file in
// the data directory locally, a Secrets Manager secret per account on
// AWS), never in the account record or a log. It must not import net/http
// handlers; the Secrets Manager adapter is the only AWS code here.
package flexconn
