package main

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// maxCertFileBytes stops a mistaken --idp-cert (a disk image, a log) from
// being read whole; certificates are a few kilobytes.
const maxCertFileBytes = 1 << 20

// inlineSource is how a problem names a certificate given as text: never
// the text itself (28 lines of base64 help nobody).
const inlineSource = "(certificate text)"

// readCertArg reads one --idp-cert value the ways admins give it: a file
// of PEM (a UTF-8 BOM from a Windows editor is dropped), a DER file, or
// the PEM text itself (--idp-cert "$(cat cert.crt)"). It returns the
// certificate as canonical PEM when it parses, else the text as read, so
// that Validate names what is wrong with it; and the source to name in a
// problem.
func readCertArg(arg string) (text, source string, err error) {
	if strings.Contains(arg, "-----BEGIN") {
		return normalizeCert(arg), inlineSource, nil
	}
	b, ferr := readCertFile(arg)
	if ferr != nil {
		// Bare base64 pasted inline is not a file name either.
		if _, perr := samlflex.ParseCertificate(arg); perr == nil {
			return normalizeCert(arg), inlineSource, nil
		}
		return "", arg, ferr
	}
	b = []byte(strings.TrimPrefix(string(b), "\ufeff"))
	if c, derr := x509.ParseCertificate(b); derr == nil {
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})), arg, nil
	}
	return normalizeCert(string(b)), arg, nil
}

func normalizeCert(text string) string {
	if p, err := samlflex.NormalizeCertificate(strings.TrimPrefix(text, "\ufeff")); err == nil {
		return p
	}
	return text
}

func readCertFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %v", errors.Unwrap(err))
	}
	if fi.IsDir() {
		return nil, errors.New("is a directory, not a certificate file")
	}
	if fi.Size() > maxCertFileBytes {
		return nil, fmt.Errorf("the file has %d bytes, too many for a certificate", fi.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %v", errors.Unwrap(err))
	}
	return b, nil
}
