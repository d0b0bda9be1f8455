'use strict';

// HTML pages of the test IdP. Element ids (username, password, login,
// continue) are API for the browser end-to-end test: keep them stable.

function esc(s) {
  return String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function page(title, body) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
  body { font-family: sans-serif; background: #f3f3f3; margin: 0; }
  main { max-width: 22rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 4px; box-shadow: 0 1px 3px #0003; }
  label { display: block; margin-top: 1rem; }
  input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .5rem; }
  button { margin-top: 1.5rem; width: 100%; padding: .6rem; }
  .error { color: #b00; }
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

// loginForm is the username/password form. requestID and relayState ride
// along in hidden fields; action is /sso/login (SP-initiated) or
// /idp-initiated (unsolicited).
function loginForm({ action, requestID = '', relayState = '', spEntityId, error = '' }) {
  const hidden = [
    requestID ? `<input type="hidden" name="request_id" value="${esc(requestID)}">` : '',
    relayState ? `<input type="hidden" name="RelayState" value="${esc(relayState)}">` : '',
  ].join('');
  return page('Log in | samlflex test IdP', `<h1>Log in</h1>
<p>samlflex test IdP (samlify) for <code>${esc(spEntityId)}</code></p>
${error ? `<p class="error" id="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="${esc(action)}" autocomplete="off">
${hidden}
<label for="username">Username</label>
<input type="text" id="username" name="username" autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password">
<button type="submit" id="login">Log in</button>
</form>`);
}

// autoPost is the HTTP-POST binding page (SAML bindings 3.5.4): a form
// that posts SAMLResponse and RelayState to the ACS, submitted by script,
// with a visible button for a browser without JavaScript.
function autoPost({ acsURL, samlResponse, relayState = '' }) {
  return page('Redirecting | samlflex test IdP', `<form method="post" action="${esc(acsURL)}" id="saml-post">
<input type="hidden" name="SAMLResponse" value="${esc(samlResponse)}">
${relayState ? `<input type="hidden" name="RelayState" value="${esc(relayState)}">` : ''}
<p>Signing you in to the service provider&hellip;</p>
<button type="submit" id="continue">Continue</button>
</form>
<script>document.getElementById('saml-post').submit();</script>`);
}

function errorPage(title, message) {
  return page(`${title} | samlflex test IdP`, `<h1>${esc(title)}</h1>
<p class="error" id="error" role="alert">${esc(message)}</p>`);
}

module.exports = { loginForm, autoPost, errorPage, esc };
