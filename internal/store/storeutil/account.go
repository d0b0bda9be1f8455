package storeutil

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// EncodeAccount checks Put's arguments and returns a as Put stores it:
// Version expectVersion+1, UpdatedAt now in UTC, and its JSON (which
// carries Version and UpdatedAt too, so that an exported config is
// self-describing). backend prefixes the errors ("sqlitestore").
func EncodeAccount(backend string, a samlflex.Account, expectVersion int64, now time.Time) (samlflex.Account, []byte, error) {
	if a.AccountSID == "" {
		return a, nil, errors.New(backend + ": put: empty account SID")
	}
	if expectVersion < 0 {
		return a, nil, fmt.Errorf("%s: put %s: negative expected version %d", backend, a.AccountSID, expectVersion)
	}
	a.Version = expectVersion + 1
	a.UpdatedAt = now.UTC()
	body, err := json.Marshal(a)
	if err != nil {
		return a, nil, fmt.Errorf("%s: put %s: %w", backend, a.AccountSID, err)
	}
	return a, body, nil
}

// DecodeAccount reads the JSON that EncodeAccount wrote for sid.
func DecodeAccount(backend, sid string, body []byte) (samlflex.Account, error) {
	var a samlflex.Account
	if err := json.Unmarshal(body, &a); err != nil {
		return samlflex.Account{}, fmt.Errorf("%s: account %s is corrupt: %w", backend, sid, err)
	}
	return a, nil
}
