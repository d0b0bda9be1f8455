#!/usr/bin/env node
'use strict';

// A SAML 2.0 IdP that looks like Salesforce to a service provider, built on
// samlify so that samlflex's end-to-end tests log in through third-party
// code. It is a test peer: one SP, users from a file, in-memory sessions,
// HTTP on loopback only. See README.md for the endpoints.
//
// stdout carries exactly one line, "READY http://host:port", once listening;
// everything else goes to stderr.

const crypto = require('node:crypto');
const http = require('node:http');
const config = require('./config');
const saml = require('./saml');
const pages = require('./pages');

const MAX_BODY = 1 << 20;
const PENDING_TTL_MS = 10 * 60 * 1000;
const SESSION_COOKIE = 'idp_session';

function log(...parts) {
  process.stderr.write(`idp: ${parts.join(' ')}\n`);
}

function main() {
  let cfg;
  try {
    cfg = config.load(process.argv.slice(2));
  } catch (err) {
    log(err.message);
    process.exit(2);
  }

  // AuthnRequest IDs this IdP has shown a login form for. A login POST must
  // name one, as a real IdP only answers requests it has seen.
  const pending = new Map();
  // Sessions: a successful login signs the browser in, as Salesforce
  // does; an AuthnRequest from a signed-in browser is answered at once,
  // without a form (what makes samlflex's bounce of an App Launcher login
  // invisible to the user). Session id -> username.
  const sessions = new Map();
  let entities = null;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      log('internal error:', err && err.stack ? err.stack : String(err));
      if (!res.headersSent) send(res, 500, pages.errorPage('Error', 'Internal error in the test IdP; see its stderr.'));
    });
  });

  async function handle(req, res) {
    const url = new URL(req.url, 'http://idp.invalid');
    const route = `${req.method} ${url.pathname}`;
    log(req.method, url.pathname);
    switch (route) {
      case 'GET /healthz':
        return send(res, 200, 'ok\n', 'text/plain; charset=utf-8');
      case 'GET /metadata':
        return send(res, 200, entities.idp.getMetadata(), 'application/samlmetadata+xml');
      case 'GET /sso':
        return startSSO(req, res, saml.BINDING.redirect, { query: Object.fromEntries(url.searchParams) });
      case 'POST /sso':
        return startSSO(req, res, saml.BINDING.post, { body: await readForm(req) });
      case 'POST /sso/login':
        return login(res, await readForm(req), true);
      case 'GET /idp-initiated':
        return login(res, Object.fromEntries(url.searchParams), false);
      case 'POST /idp-initiated':
        return login(res, await readForm(req), false);
      default:
        return send(res, 404, pages.errorPage('Not found', `No such page: ${req.method} ${url.pathname}`));
    }
  }

  async function startSSO(req, res, binding, request) {
    const params = request.query || request.body;
    if (!params.SAMLRequest) {
      return send(res, 400, pages.errorPage('Bad request', 'The request has no SAMLRequest parameter.'));
    }
    const bindingName = binding === saml.BINDING.redirect ? 'redirect' : 'post';
    let authn;
    try {
      authn = await saml.parseAuthnRequest(entities, bindingName, request);
    } catch (err) {
      log('bad AuthnRequest:', err.message);
      return send(res, 400, pages.errorPage('Bad request', 'The SAMLRequest could not be read as an AuthnRequest.'));
    }
    // Salesforce only answers connected apps it knows, at their configured
    // ACS URL; an SP that sends anything else gets an error, not a Response.
    if (authn.issuer !== cfg.spEntityId) {
      log(`unknown SP issuer ${JSON.stringify(authn.issuer)}, want ${JSON.stringify(cfg.spEntityId)}`);
      return send(res, 400, pages.errorPage('Unknown service provider',
        `The AuthnRequest Issuer ${authn.issuer} is not the configured SP entity ID ${cfg.spEntityId}.`));
    }
    if (authn.acsURL && authn.acsURL !== cfg.spAcsUrl) {
      log(`AssertionConsumerServiceURL ${authn.acsURL} is not ${cfg.spAcsUrl}`);
      return send(res, 400, pages.errorPage('Wrong ACS URL',
        `The AuthnRequest AssertionConsumerServiceURL ${authn.acsURL} is not the configured ${cfg.spAcsUrl}.`));
    }
    if (!authn.id) {
      return send(res, 400, pages.errorPage('Bad request', 'The AuthnRequest has no ID.'));
    }
    const signedIn = sessionUser(req);
    if (signedIn) {
      const answers = cfg.ignoreAuthnRequests ? '' : authn.id;
      const samlResponse = await saml.loginResponse(entities, cfg, signedIn, answers);
      log(`session found, ${answers ? 'SP-initiated' : 'unsolicited (--ignore-authn-requests)'} Response posted to the ACS without a form`);
      return send(res, 200, pages.autoPost({ acsURL: cfg.spAcsUrl, samlResponse, relayState: params.RelayState || '' }));
    }
    expirePending();
    pending.set(authn.id, Date.now() + PENDING_TTL_MS);
    return send(res, 200, pages.loginForm({
      action: '/sso/login',
      requestID: authn.id,
      relayState: params.RelayState || '',
      spEntityId: cfg.spEntityId,
    }));
  }

  async function login(res, form, solicited) {
    const requestID = solicited ? form.request_id || '' : '';
    const relayState = form.RelayState || '';
    const action = solicited ? '/sso/login' : '/idp-initiated';
    if (solicited) {
      expirePending();
      if (!pending.has(requestID)) {
        return send(res, 400, pages.errorPage('Unknown login request',
          'This login form does not belong to an AuthnRequest this IdP has seen (or it expired).'));
      }
    }
    if (form.username === undefined && !solicited) {
      // GET /idp-initiated with no credentials: show the form.
      return send(res, 200, pages.loginForm({ action, relayState, spEntityId: cfg.spEntityId }));
    }
    const user = cfg.users.get(form.username || '');
    if (!user || !passwordMatches(user.password, form.password || '')) {
      log('login failed');
      return send(res, 401, pages.loginForm({
        action, requestID, relayState, spEntityId: cfg.spEntityId, error: 'Wrong username or password',
      }));
    }
    const samlResponse = await saml.loginResponse(entities, cfg, user, requestID);
    const sid = crypto.randomBytes(16).toString('hex');
    sessions.set(sid, form.username);
    res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${sid}; Path=/; HttpOnly; SameSite=Lax`);
    log(`login ok, ${solicited ? 'SP-initiated' : 'IdP-initiated'} Response posted to the ACS`);
    return send(res, 200, pages.autoPost({ acsURL: cfg.spAcsUrl, samlResponse, relayState }));
  }

  function sessionUser(req) {
    for (const part of (req.headers.cookie || '').split(';')) {
      const [name, value] = part.trim().split('=');
      if (name === SESSION_COOKIE && sessions.has(value)) return cfg.users.get(sessions.get(value));
    }
    return undefined;
  }

  function expirePending() {
    const now = Date.now();
    for (const [id, expires] of pending) if (expires < now) pending.delete(id);
  }

  server.listen(cfg.port, cfg.host, () => {
    const { port } = server.address();
    const host = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
    const baseURL = `http://${host}:${port}`;
    if (!cfg.issuer) cfg.issuer = baseURL;
    try {
      entities = saml.newEntities(cfg, baseURL);
    } catch (err) {
      log('cannot set up samlify:', err.message);
      process.exit(2);
    }
    log(`issuer ${cfg.issuer}, SP ${cfg.spEntityId}, ACS ${cfg.spAcsUrl}, ${cfg.users.size} user(s)`);
    process.stdout.write(`READY ${baseURL}\n`);
  });
  server.on('error', (err) => {
    log('listen:', err.message);
    process.exit(1);
  });

  let stopping = false;
  const shutdown = (why) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${why})`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  if (cfg.exitWithStdin) {
    // The Go helper holds our stdin open; if the test binary dies without
    // running its cleanup, stdin closes and this IdP does not linger.
    process.stdin.on('end', () => shutdown('stdin closed'));
    process.stdin.on('error', () => shutdown('stdin error'));
    process.stdin.resume();
  }
}

// passwordMatches compares in constant time: cheap, and it keeps a test
// peer from being a bad example.
function passwordMatches(want, got) {
  const h = (s) => crypto.createHash('sha256').update(s, 'utf8').digest();
  return crypto.timingSafeEqual(h(want), h(got));
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')))));
    req.on('error', reject);
  });
}

function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.writeHead(status, {
    'Content-Type': type,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}

main();
