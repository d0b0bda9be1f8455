package demo

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits on an incoming AuthnRequest. samlflex's requests are about 600
// bytes deflated; the caps stop a "deflate bomb" from making the demo
// inflate gigabytes.
const (
	maxEncodedRequest  = 8 << 10
	maxInflatedRequest = 64 << 10
	maxRequestIDLen    = 256
)

// AuthnRequest is what the demo IdP reads from a login request.
type AuthnRequest struct {
	ID          string
	Issuer      string
	ACSURL      string
	Destination string
}

// RequestError is a login request that the demo IdP refuses. Reason is a
// sentence for the page; Err is the detail for the log.
type RequestError struct {
	Reason string
	Err    error
}

func (e *RequestError) Error() string {
	if e.Err == nil {
		return "demo idp: " + e.Reason
	}
	return "demo idp: " + e.Reason + ": " + e.Err.Error()
}

func (e *RequestError) Unwrap() error { return e.Err }

func badRequest(reason string, err error) *RequestError {
	return &RequestError{Reason: reason, Err: err}
}

// xmlAuthnRequest maps the fields the IdP needs (SAML core 3.4.1). The
// namespaces are part of the tags, so a look-alike element in another
// namespace does not match.
type xmlAuthnRequest struct {
	XMLName     xml.Name `xml:"urn:oasis:names:tc:SAML:2.0:protocol AuthnRequest"`
	ID          string   `xml:"ID,attr"`
	Version     string   `xml:"Version,attr"`
	Destination string   `xml:"Destination,attr"`
	ACSURL      string   `xml:"AssertionConsumerServiceURL,attr"`
	Issuer      string   `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
}

// ParseRedirectRequest decodes the SAMLRequest query parameter of the
// HTTP-Redirect binding (SAML bindings 3.4.4.1: DEFLATE, then base64, then
// URL encoding, which the caller's query parsing has already undone).
func ParseRedirectRequest(samlRequest string) (*AuthnRequest, error) {
	if samlRequest == "" {
		return nil, badRequest("the login request is missing: start from the samlflex login link", nil)
	}
	if len(samlRequest) > maxEncodedRequest {
		return nil, badRequest("the login request is too large", fmt.Errorf("%d bytes encoded", len(samlRequest)))
	}
	compressed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(samlRequest))
	if err != nil {
		return nil, badRequest("the login request is not base64", err)
	}
	fr := flate.NewReader(bytes.NewReader(compressed))
	defer func() { _ = fr.Close() }()
	raw, err := io.ReadAll(io.LimitReader(fr, maxInflatedRequest+1))
	if err != nil {
		return nil, badRequest("the login request is not DEFLATE-compressed", err)
	}
	if len(raw) > maxInflatedRequest {
		return nil, badRequest("the login request is too large", errors.New("inflated beyond the limit"))
	}
	var x xmlAuthnRequest
	dec := xml.NewDecoder(bytes.NewReader(raw))
	dec.Strict = true
	if err := dec.Decode(&x); err != nil {
		return nil, badRequest("the login request is not a SAML 2.0 AuthnRequest", err)
	}
	switch {
	case x.Version != "2.0":
		return nil, badRequest("the login request is not SAML 2.0", fmt.Errorf("version %q", x.Version))
	case x.ID == "" || len(x.ID) > maxRequestIDLen:
		return nil, badRequest("the login request has no usable ID", fmt.Errorf("ID of %d bytes", len(x.ID)))
	case strings.TrimSpace(x.Issuer) == "":
		return nil, badRequest("the login request does not name its service provider (Issuer)", nil)
	}
	return &AuthnRequest{
		ID:          x.ID,
		Issuer:      strings.TrimSpace(x.Issuer),
		ACSURL:      x.ACSURL,
		Destination: x.Destination,
	}, nil
}
