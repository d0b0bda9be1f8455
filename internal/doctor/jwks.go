package doctor

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// checkJWKS fetches the JWKS that relying parties verify samlflex's
// tokens with, checks each key, and that the current key (the login
// cookie's kid) and the metadata's certificates are in it.
func (d *doctor) checkJWKS(ctx context.Context, md *metadataResult, login *loginResult) {
	u := d.path(samlflex.PathJWKS)
	f := Finding{Check: "jwks", Expected: "HTTP 200 with a JWKS of public RS256/ES256 signing keys at " + u}
	a, err := d.get(ctx, u)
	if err != nil {
		f.Status, f.Seen, f.Fix = StatusFail, "no answer: "+err.Error(), "see the tls and healthz findings"
		d.add(f)
		return
	}
	if a.resp.StatusCode != http.StatusOK {
		f.Status, f.Seen, f.Fix = StatusFail, fmt.Sprintf("HTTP %d %s", a.resp.StatusCode, errorCode(a.resp)), fixForError(a.resp, d.cfg.AccountSID)
		d.add(f)
		return
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(a.body, &set); err != nil {
		f.Status, f.Seen = StatusFail, "not a JWKS: "+err.Error()
		f.Fix = "the URL reaches something else than samlflex, or a key in the set is damaged: check the base URL and the key secret"
		d.add(f)
		return
	}
	var kids, problems []string
	for i, k := range set.Keys {
		kids = append(kids, k.KeyID)
		switch {
		case !k.Valid() || !k.IsPublic():
			problems = append(problems, fmt.Sprintf("key %d (kid %q) is not a valid public key", i, k.KeyID))
		case k.KeyID == "":
			problems = append(problems, fmt.Sprintf("key %d has no kid", i))
		case k.Algorithm != string(jose.RS256) && k.Algorithm != string(jose.ES256):
			problems = append(problems, fmt.Sprintf("key %q has alg %q", k.KeyID, k.Algorithm))
		case k.Use != "" && k.Use != "sig":
			problems = append(problems, fmt.Sprintf("key %q has use %q", k.KeyID, k.Use))
		}
	}
	switch {
	case len(set.Keys) == 0:
		f.Status, f.Seen = StatusFail, "an empty key set"
		f.Fix = "the SP key set is empty: check the key secret and the rotate function's logs"
	case len(problems) > 0:
		f.Status, f.Seen = StatusFail, strings.Join(problems, "; ")
		f.Fix = "the key set holds an unusable key: check the key secret"
	default:
		f.Status, f.Seen = StatusOK, fmt.Sprintf("%d keys, kids %s", len(set.Keys), strings.Join(kids, ", "))
	}
	d.add(f)
	if f.Status == StatusFail {
		return
	}
	d.add(currentKeyFinding(set, md, login))
}

// currentKeyFinding checks that the key signing now is published: tokens
// that a relying party cannot verify fail every login after the ACS.
func currentKeyFinding(set jose.JSONWebKeySet, md *metadataResult, login *loginResult) Finding {
	f := Finding{Check: "jwks.current", Expected: "the login cookie's kid and every metadata certificate's key in the JWKS"}
	if (login == nil || login.cookieKid == "") && (md == nil || len(md.certs) == 0) {
		f.Status, f.Seen = StatusSkip, "no login cookie kid or metadata certificate to compare with (give --account-sid)"
		return f
	}
	var seen, missing []string
	if login != nil && login.cookieKid != "" {
		if len(set.Key(login.cookieKid)) > 0 {
			seen = append(seen, "the current kid "+login.cookieKid+" is published")
		} else {
			missing = append(missing, "the current kid "+login.cookieKid+" (from the login cookie)")
		}
	}
	if md != nil {
		thumbs := thumbprints(set)
		for _, c := range md.certs {
			if !slices.Contains(thumbs, thumbprint(c.PublicKey)) {
				missing = append(missing, fmt.Sprintf("the key of metadata certificate CN %q", c.Subject.CommonName))
			}
		}
		if len(md.certs) > 0 && len(missing) == 0 {
			seen = append(seen, fmt.Sprintf("the keys of the %d metadata certificates are published", len(md.certs)))
		}
	}
	if len(missing) > 0 {
		f.Status, f.Seen = StatusFail, "missing from the JWKS: "+strings.Join(missing, "; ")
		f.Fix = "the JWKS and the login link use different key sets: right after a rotation, caches catch up within " +
			"minutes (run doctor again); otherwise check that every function reads the same key secret (SAMLFLEX_KEYS_SECRET_ID)"
		return f
	}
	f.Status, f.Seen = StatusOK, strings.Join(seen, "; ")
	return f
}

func thumbprints(set jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, thumbprint(k.Key))
	}
	return out
}

// thumbprint is the RFC 7638 thumbprint of a public key ("" if none).
func thumbprint(pub any) string {
	k := jose.JSONWebKey{Key: pub}
	b, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return ""
	}
	return string(b)
}
