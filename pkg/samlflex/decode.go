package samlflex

// Decoding of the base64 form value. The one hardened XML parse is in
// parse.go, the bounds on its work in limits.go, the schema shape the
// document must have in structure.go.

import (
	"bytes"
	"encoding/base64"
)

// decodeBase64 accepts standard base64 with or without line breaks (some
// IdPs wrap at 76 columns; the decoder skips \r and \n).
func decodeBase64(encoded []byte) ([]byte, error) {
	encoded = bytes.TrimSpace(encoded)
	out := make([]byte, base64.StdEncoding.DecodedLen(len(encoded)))
	n, err := base64.StdEncoding.Decode(out, encoded)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}
