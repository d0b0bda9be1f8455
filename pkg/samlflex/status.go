package samlflex

// The SAML Status of a response: a failed login explained with the IdP's
// own words, without echoing them.

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// checkStatus reports a failed login with the IdP's status. The status is
// read before the signature check on purpose: it is only used to explain a
// refusal, never to let anyone in, and IdPs do not always sign errors.
func checkStatus(root *etree.Element) error {
	status := firstChild(root, nsProtocol, "Status")
	if status == nil {
		return Errorf(CodeMalformedResponse, "response has no Status")
	}
	code := firstChild(status, nsProtocol, "StatusCode")
	if code == nil {
		return Errorf(CodeMalformedResponse, "response has no StatusCode")
	}
	top := attrValue(code, "Value")
	if top == statusSuccess {
		return nil
	}
	sub := ""
	if c := firstChild(code, nsProtocol, "StatusCode"); c != nil {
		sub = attrValue(c, "Value")
	}
	msg := ""
	if m := firstChild(status, nsProtocol, "StatusMessage"); m != nil {
		msg = m.Text()
	}
	public := PublicMessage(CodeStatusNotSuccess)
	if name := statusName(top, sub); name != "" {
		public = "Salesforce did not sign the user in (SAML status " + name + "). " + statusAdvice
	}
	return NewError(CodeStatusNotSuccess, public, fmt.Errorf("status %q / %q: %q", truncateDetail(top), truncateDetail(sub), truncateDetail(msg)))
}

const statusAdvice = "Check that the user's profile or permission set has access to the connected app, and the Salesforce login history for the reason."

// statusName returns "Requester/RequestDenied" for the standard status
// URIs, so that the error page can show it without echoing arbitrary input.
func statusName(top, sub string) string {
	const prefix = "urn:oasis:names:tc:SAML:2.0:status:"
	short := func(s string) string {
		if !strings.HasPrefix(s, prefix) {
			return ""
		}
		n := strings.TrimPrefix(s, prefix)
		for _, r := range n {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return ""
			}
		}
		return n
	}
	t := short(top)
	if t == "" {
		return ""
	}
	if s := short(sub); s != "" {
		return t + "/" + s
	}
	return t
}
