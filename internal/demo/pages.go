package demo

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
)

// The pages keep their style and scripts inline so that they load nothing
// from anywhere (a landing page copied to another server keeps working),
// and the Content-Security-Policy allows exactly these bytes by hash.
// The scripts hold no comments: html/template strips JavaScript comments,
// which would change the bytes and break the hash.
const pageCSS = `*{box-sizing:border-box}[hidden]{display:none!important}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f5f6f8;color:#1d2330;line-height:1.45}
.banner{background:#b00020;color:#fff;font-size:2.4rem;font-weight:800;text-align:center;padding:.8rem 1rem;letter-spacing:.04em}
.banner.desktop{background:#0b5394}
.banner small{display:block;font-size:1rem;font-weight:500;letter-spacing:0}
main{max-width:48rem;margin:1.5rem auto;padding:0 1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}h2{font-size:1.15rem;margin-top:2rem}
.note{background:#fff8e1;border-left:4px solid #f2a600;padding:.6rem .9rem}
.error{background:#fdecea;border-left:4px solid #b00020;padding:.6rem .9rem}
.ok{background:#e8f5e9;border-left:4px solid #2e7d32;padding:.6rem .9rem}
form.login{display:grid;grid-template-columns:max-content minmax(0,18rem);gap:.5rem 1rem;align-items:center;margin:1rem 0}
input{font:inherit;padding:.35rem .5rem;border:1px solid #aab;border-radius:4px}
button,.button{font:inherit;padding:.45rem 1.1rem;border:0;border-radius:4px;background:#0b5394;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
form.login button{grid-column:2;justify-self:start}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #dde}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;background:#fff;padding:1rem;border-radius:6px}
dt{color:#556}dd{margin:0;font-weight:600;word-break:break-all}
code{font-size:.95em;word-break:break-all}`

const autopostJS = `document.getElementById("saml-form").submit();`

const desktopJS = `(function () {
  "use strict";
  var body = document.body;
  function set(id, text) { document.getElementById(id).textContent = text; }
  function fail(msg) {
    var e = document.getElementById("error");
    e.textContent = msg;
    e.hidden = false;
    set("status", "Not signed in.");
    body.setAttribute("data-state", "error");
  }
  var m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (!m || !m[1]) {
    fail("There is no token in this address. Sign in from the samlflex login link.");
    return;
  }
  var token = decodeURIComponent(m[1]);
  history.replaceState(null, "", location.pathname + location.search);
  fetch(body.getAttribute("data-whoami"), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: "token=" + encodeURIComponent(token),
    credentials: "omit",
    cache: "no-store"
  }).then(function (r) {
    return r.json().then(function (j) { return { ok: r.ok, j: j }; });
  }).then(function (res) {
    if (!res.ok || !res.j.verified) {
      fail((res.j && res.j.message ? res.j.message : "The token was refused.") + (res.j && res.j.code ? " (" + res.j.code + ")" : ""));
      return;
    }
    var c = res.j;
    set("identity", c.sub);
    set("full-name", c.name || "");
    set("email", c.email || "");
    set("roles", (c.roles || []).join(", "));
    set("expires", c.expires_at + " (" + new Date(c.exp * 1000).toLocaleString() + ")");
    set("issuer", c.iss);
    set("audience", (c.aud || []).join(", "));
    set("kid", c.kid + " (" + c.alg + ")");
    document.getElementById("claims").hidden = false;
    set("status", "Signed in. The token's signature, issuer, audience and expiry were verified against the published keys (JWKS).");
    document.getElementById("status").className = "ok";
    body.setAttribute("data-state", "verified");
  }).catch(function (e) {
    fail("The token could not be checked: " + e.message);
  });
})();`

const pageHead = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title><style>` + pageCSS + `</style></head>`

const idpBanner = `<div class="banner" role="banner">TEST IdP — local only<small>A demo identity provider for trying samlflex on this computer. It stands in for Salesforce. Never type a real password here.</small></div>`

const usersTable = `{{define "users"}}<table id="demo-users"><thead><tr><th>Username</th><th>Password</th><th>Full name</th><th>Roles</th><th>E-mail</th></tr></thead><tbody>
{{range .}}<tr><td><code>{{.Username}}</code></td><td><code>{{.Password}}</code></td><td>{{.FullName}}</td><td>{{.RolesValue}}</td><td>{{.Email}}</td></tr>
{{end}}</tbody></table>{{end}}`

const loginPage = pageHead + `<body>` + idpBanner + `<main>
<h1>Sign in to the demo IdP</h1>
<p>The service provider <code>{{.SPEntityID}}</code> asked who you are. Pick a demo user below; every password is <code>{{.Password}}</code>.</p>
{{if .Error}}<p class="error" id="error" role="alert">{{.Error}}</p>{{end}}
<form class="login" method="post" action="{{.Action}}" id="login-form">
<input type="hidden" name="SAMLRequest" value="{{.SAMLRequest}}">
<input type="hidden" name="RelayState" value="{{.RelayState}}">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" value="{{.Username}}" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" id="sign-in">Sign in</button>
</form>
<h2>Demo users</h2>
{{template "users" .Users}}
</main></body></html>`

const autopostPage = pageHead + `<body>` + idpBanner + `<main>
<h1>Signing in as {{.Username}}…</h1>
<p>The demo IdP is sending a signed SAML response to the service provider's ACS URL <code>{{.ACS}}</code>.</p>
<form method="post" action="{{.ACS}}" id="saml-form">
<input type="hidden" name="SAMLResponse" value="{{.SAMLResponse}}">
{{if .RelayState}}<input type="hidden" name="RelayState" value="{{.RelayState}}">{{end}}
<noscript><p>JavaScript is off: press Continue to finish signing in.</p></noscript>
<button type="submit" id="continue">Continue</button>
</form>
<script>` + autopostJS + `</script>
</main></body></html>`

const choosePage = pageHead + `<body>` + idpBanner + `<main>
<h1>IdP-initiated login</h1>
<p>Like a click on the app in Salesforce's App Launcher: the demo IdP sends a signed response to samlflex without a login request first. Pick a user (you count as already signed in to the IdP).</p>
{{if .Error}}<p class="error" id="error" role="alert">{{.Error}}</p>{{end}}
<ul>{{range .Users}}<li><a href="{{$.Path}}?user={{.Username}}" id="initiated-{{.Username}}">Sign in as {{.Username}}</a> ({{.FullName}}, {{.RolesValue}})</li>
{{end}}</ul>
</main></body></html>`

const errorPage = pageHead + `<body>` + idpBanner + `<main>
<h1>The demo IdP refused this request</h1>
<p class="error" id="error" role="alert">{{.Message}}</p>
<p><a href="{{.Index}}">Back to the demo start page</a></p>
</main></body></html>`

const indexPage = pageHead + `<body>` + idpBanner + `<main>
<h1>samlflex demo</h1>
<p>Everything on this server runs on this computer: the samlflex service provider, a demo identity provider standing in for Salesforce, and a demo landing page standing in for the Flex agent desktop.</p>
<p><a class="button" id="login-link" href="{{.LoginURL}}">Sign in (SP-initiated, like the Flex login link)</a></p>
<h2>Demo users</h2>
<p>Every password is <code>{{.Password}}</code>.</p>
{{template "users" .Users}}
<h2>Other ways in</h2>
<ul>
<li><a href="{{.InitiatedURL}}">IdP-initiated login</a> (like Salesforce's App Launcher)</li>
<li><a href="{{.DesktopURL}}">The demo agent desktop</a> (shows who signed in)</li>
<li><a href="{{.MetadataURL}}">SP metadata</a> of the demo account</li>
</ul>
<h2>What samlflex was configured with</h2>
<dl>
<dt>Account SID</dt><dd><code>{{.AccountSID}}</code></dd>
<dt>Entity Id</dt><dd><code>{{.EntityID}}</code></dd>
<dt>ACS URL</dt><dd><code>{{.ACSURL}}</code></dd>
<dt>IdP issuer</dt><dd><code>{{.IdPIssuer}}</code></dd>
<dt>IdP SSO URL</dt><dd><code>{{.IdPSSOURL}}</code></dd>
</dl>
</main></body></html>`

const desktopPage = pageHead + `<body data-whoami="{{.WhoamiURL}}" data-state="loading">
<div class="banner desktop" role="banner">DEMO agent desktop — local only<small>Stands in for the Flex agent desktop: it shows who samlflex signed in.</small></div>
<main>
<h1>Demo agent desktop</h1>
<p>This page reads the session token from its address (<code>#token=…</code>), sends it to a token check that verifies it against samlflex's published keys (JWKS), and shows what the token says.</p>
<p id="status" role="status">Checking the token…</p>
<p id="error" class="error" role="alert" hidden></p>
<dl id="claims" hidden>
<dt>Identity</dt><dd id="identity"></dd>
<dt>Full name</dt><dd id="full-name"></dd>
<dt>E-mail</dt><dd id="email"></dd>
<dt>Roles</dt><dd id="roles"></dd>
<dt>Token expires</dt><dd id="expires"></dd>
<dt>Issuer</dt><dd id="issuer"></dd>
<dt>Audience</dt><dd id="audience"></dd>
<dt>Signing key</dt><dd id="kid"></dd>
</dl>
{{if .LoginURL}}<p><a class="button" id="sign-in-again" href="{{.LoginURL}}">Sign in again</a></p>{{end}}
</main>
<script>` + desktopJS + `</script>
</body></html>`

// pages holds the parsed templates (built in a constructor, not a package
// variable: no global state).
type pages struct {
	login, autopost, choose, errPage, index, desktop *template.Template
}

func parsePages() (*pages, error) {
	base, err := template.New("users").Parse(usersTable)
	if err != nil {
		return nil, err
	}
	parse := func(name, text string) (*template.Template, error) {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		return t.New(name).Parse(text)
	}
	p := &pages{}
	for _, x := range []struct {
		dst  **template.Template
		name string
		text string
	}{
		{&p.login, "login", loginPage},
		{&p.autopost, "autopost", autopostPage},
		{&p.choose, "choose", choosePage},
		{&p.errPage, "error", errorPage},
		{&p.index, "index", indexPage},
		{&p.desktop, "desktop", desktopPage},
	} {
		t, err := parse(x.name, x.text)
		if err != nil {
			return nil, err
		}
		*x.dst = t
	}
	return p, nil
}

// cspHash is a CSP source expression for an inline script or style.
func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// origin returns scheme://host of an absolute URL, for CSP source lists.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// setPageHeaders sets the headers every demo page shares. The policy
// allows the inline style by hash, a script only when given, and nothing
// else; extra adds directives (form-action, connect-src).
func setPageHeaders(h http.Header, script string, extra string) {
	csp := "default-src 'none'; style-src " + cspHash(pageCSS) + "; base-uri 'none'; frame-ancestors 'none'"
	if script != "" {
		csp += "; script-src " + cspHash(script)
	}
	if extra != "" {
		csp += "; " + extra
	}
	h.Set("Content-Security-Policy", csp)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}
