// Package flextest is a stand-in for the Twilio Flex endpoints that package
// flex calls, for tests. It is written from the documented shapes (see
// docs/flex.md: "Flex Users API (public beta)", "Flex User Token API
// (public beta)", "Create a Flex instance programmatically", "Twilio API
// responses"), not from flex's code, so a test against it checks flex
// against the documentation:
//
//	GET  /v2/Instances/{GO}                     I-Twilio-Auth-Account header; {"flex_instance_sid","account_sid","status",…}
//	POST /v4/Instances/{GO}/Users/Provision     JSON; create-or-update by username
//	GET  /v4/Instances/{GO}/Users?Username=…    {"account_sid","instance_sid","users":[…],"meta":{…}}
//	GET  /v4/Instances/{GO}/Users/{FU}          one user
//	POST /v4/Instances/{GO}/Users/{FU}/Tokens   JSON {"ttl"}; {"access_token","token_info":{…}}
//	POST /v4/Instances/{GO}/Users/{FU}/Deprovision   (path ASSUMED)
//
// Every behaviour the pages do not settle is marked ASSUMED where it is
// implemented, and where Twilio may plausibly answer either way an Option
// selects the other answer (CreateStatus, UnknownUser404, HideDeactivated,
// NoWorkerSIDInLookup, NoDeactivatedField, MaxTTL), so that flex is tested
// against both.
//
// Errors use Twilio's exception body {"code","message","more_info","status"}.
// The server listens on 127.0.0.1 only, is closed by t.Cleanup, records
// every request (auth header, parameters, body) for assertions, keeps users
// in memory (unique by username, safe for concurrent requests), mints opaque
// tokens, accepts the API key (APIKeySID:APISecret) and the Auth Token
// (AccountSID:AuthToken), and has fault switches: Throttle (429 with
// Retry-After), FailNext (n answers with any status and Twilio code),
// FailWith (e.g. 500 forever), RejectCredentials (401, 20003), HideInstance
// (404, 20404) and SetUserLimit (400, 14240, assumed).
//
// It must not import package flex: it stands for Twilio, not for samlflex.
package flextest
