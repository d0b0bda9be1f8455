// Package session owns what samlflex seals with the SP key set for a
// browser: the short-lived session tokens (JWTs) that tell the agent
// desktop who logged in, the keys that verify them (JWKS), and the login
// cookie's state (LoginKeys.Seal and Open) that binds an SP-initiated login to
// the browser that started it. It uses go-jose rather than hand-written JWT
// code.
//
// Must not import net/http (cookie names and attributes belong to
// internal/httpapi), an AWS SDK (keys come in as a *keys.Set) or
// internal/acs (which calls it): it is pure crypto over a key set, so it is
// tested without a server.
package session
