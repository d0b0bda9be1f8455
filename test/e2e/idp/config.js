'use strict';

// Configuration for the test IdP: command-line flags, optionally layered
// over a JSON file (--config). Every problem is reported at once so a
// failing test shows the whole story in one stderr dump.

const fs = require('node:fs');
const { parseArgs } = require('node:util');

const USAGE = `usage: node server.js --sp-entity-id ID --sp-acs-url URL --key FILE --cert FILE --users FILE
       [--port N (0 = any free port)] [--host localhost] [--issuer URL]
       [--config FILE.json] [--exit-with-stdin] [--ignore-authn-requests]
       [--clock-offset-seconds N] [--sha1] [--deny-user USERNAME]

--ignore-authn-requests answers an AuthnRequest from a signed-in browser
with an unsolicited Response (no InResponseTo), like an IdP that can only
do IdP-initiated logins.

--clock-offset-seconds N moves the IdP's clock by N seconds (negative:
behind) in the responses it signs, to test an IdP whose clock is wrong.
--sha1 signs responses with RSA-SHA1 (and SHA-1 digests), as old
Salesforce certificates do. --deny-user answers that user's logins with
the status Requester, as Salesforce does for a profile without access to
the connected app.

--config is a JSON object with the same keys in camelCase
(port, host, issuer, spEntityId, spAcsUrl, key, cert, users); flags win.
--users is a JSON array of {username, password, attributes: {name: value}}
where value is a string (one AttributeValue) or an array of strings.`;

// Attribute names go into the XML template unescaped by samlify's
// attributeStatementBuilder, so they are restricted to a safe XML-ish set.
const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;

function load(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      issuer: { type: 'string' },
      'sp-entity-id': { type: 'string' },
      'sp-acs-url': { type: 'string' },
      key: { type: 'string' },
      cert: { type: 'string' },
      users: { type: 'string' },
      'exit-with-stdin': { type: 'boolean' },
      'ignore-authn-requests': { type: 'boolean' },
      'clock-offset-seconds': { type: 'string' },
      sha1: { type: 'boolean' },
      'deny-user': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }

  let file = {};
  if (values.config) {
    file = JSON.parse(fs.readFileSync(values.config, 'utf8'));
  }
  const pick = (flag, key) => (values[flag] !== undefined ? values[flag] : file[key]);

  const cfg = {
    port: Number(pick('port', 'port') ?? 0),
    host: pick('host', 'host') || 'localhost',
    issuer: pick('issuer', 'issuer') || '',
    spEntityId: pick('sp-entity-id', 'spEntityId') || '',
    spAcsUrl: pick('sp-acs-url', 'spAcsUrl') || '',
    keyFile: pick('key', 'key') || '',
    certFile: pick('cert', 'cert') || '',
    usersFile: pick('users', 'users') || '',
    exitWithStdin: Boolean(values['exit-with-stdin'] || file.exitWithStdin),
    ignoreAuthnRequests: Boolean(values['ignore-authn-requests'] || file.ignoreAuthnRequests),
    clockOffsetMs: 1000 * Number(pick('clock-offset-seconds', 'clockOffsetSeconds') ?? 0),
    sha1: Boolean(values.sha1 || file.sha1),
    denyUser: pick('deny-user', 'denyUser') || '',
  };

  const problems = [];
  if (!Number.isFinite(cfg.clockOffsetMs)) {
    problems.push(`--clock-offset-seconds must be a number, got ${pick('clock-offset-seconds', 'clockOffsetSeconds')}`);
  }
  if (!Number.isInteger(cfg.port) || cfg.port < 0 || cfg.port > 65535) {
    problems.push(`--port must be an integer in 0..65535, got ${pick('port', 'port')}`);
  }
  for (const [flag, key] of [['sp-entity-id', 'spEntityId'], ['sp-acs-url', 'spAcsUrl'],
    ['key', 'keyFile'], ['cert', 'certFile'], ['users', 'usersFile']]) {
    if (!cfg[key]) problems.push(`--${flag} is required`);
  }
  if (cfg.spAcsUrl && !URL.canParse(cfg.spAcsUrl)) {
    problems.push(`--sp-acs-url is not an absolute URL: ${cfg.spAcsUrl}`);
  }

  const read = (what, path) => {
    if (!path) return '';
    try {
      return fs.readFileSync(path, 'utf8');
    } catch (err) {
      problems.push(`cannot read ${what} ${path}: ${err.message}`);
      return '';
    }
  };
  cfg.keyPEM = read('--key', cfg.keyFile);
  cfg.certPEM = read('--cert', cfg.certFile);
  const usersJSON = read('--users', cfg.usersFile);
  cfg.users = new Map();
  if (usersJSON) {
    try {
      for (const u of parseUsers(JSON.parse(usersJSON))) cfg.users.set(u.username, u);
    } catch (err) {
      problems.push(`--users ${cfg.usersFile}: ${err.message}`);
    }
  }

  if (problems.length > 0) {
    throw new Error(`invalid configuration:\n  ${problems.join('\n  ')}\n\n${USAGE}`);
  }
  return cfg;
}

function parseUsers(list) {
  if (!Array.isArray(list)) throw new Error('must be a JSON array');
  return list.map((u, i) => {
    if (!u || typeof u.username !== 'string' || u.username === '') {
      throw new Error(`user ${i}: username must be a non-empty string`);
    }
    if (typeof u.password !== 'string') {
      throw new Error(`user ${u.username}: password must be a string`);
    }
    const attributes = [];
    for (const [name, value] of Object.entries(u.attributes || {})) {
      if (!ATTRIBUTE_NAME.test(name)) {
        throw new Error(`user ${u.username}: bad attribute name ${JSON.stringify(name)}`);
      }
      if (value === null || value === undefined) continue; // absent attribute
      const values = Array.isArray(value) ? value : [value];
      if (!values.every((v) => typeof v === 'string')) {
        throw new Error(`user ${u.username}: attribute ${name} must be a string or an array of strings`);
      }
      attributes.push({ name, values });
    }
    return { username: u.username, password: u.password, attributes };
  });
}

module.exports = { load, parseUsers };
