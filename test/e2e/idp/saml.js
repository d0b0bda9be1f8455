'use strict';

// The SAML side of the test IdP, all done by samlify: parsing the SP's
// AuthnRequest, building and signing the Response, publishing metadata.
// Nothing here hand-rolls XML-DSig; the point of this peer is that the SP
// under test meets signatures made by code nobody on the team wrote.

const crypto = require('node:crypto');
const samlify = require('samlify');

// samlify refuses to parse anything until a schema validator is set. This
// IdP is a test peer, not a security boundary: it only reads the SP's
// AuthnRequest to learn its ID. The SP under test does its own validation
// of everything this IdP sends, so schema checks here would add nothing.
samlify.setSchemaValidator({ validate: () => Promise.resolve('skipped') });

const { SamlLib, Constants } = samlify;
const BINDING = Constants.namespace.binding;

const NAMEID_UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
const ATTRNAME_UNSPECIFIED = 'urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified';
const VALIDITY_MS = 5 * 60 * 1000;

// Shaped like a Salesforce IdP Response: saml2p/saml2 prefixes, an entity
// Format on both Issuers, a bearer SubjectConfirmation, custom attributes
// typed xs:anyType. samlify signs the whole Response (the signature lands
// after Response/Issuer) and leaves the Assertion unsigned.
// {UserAttributeStatement} is deliberately not samlify's
// {AttributeStatement}: the IdP constructor would bake one fixed attribute
// list into that slot, and attributes here vary per user.
const RESPONSE_TEMPLATE =
  '<saml2p:Response xmlns:saml2p="urn:oasis:names:tc:SAML:2.0:protocol" Destination="{Destination}" ID="{ID}" InResponseTo="{InResponseTo}" IssueInstant="{IssueInstant}" Version="2.0">' +
  '<saml2:Issuer xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">{Issuer}</saml2:Issuer>' +
  '<saml2p:Status><saml2p:StatusCode Value="{StatusCode}"/></saml2p:Status>' +
  '<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="{AssertionID}" IssueInstant="{IssueInstant}" Version="2.0">' +
  '<saml2:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">{Issuer}</saml2:Issuer>' +
  '<saml2:Subject><saml2:NameID Format="{NameIDFormat}">{NameID}</saml2:NameID>' +
  '<saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">' +
  '<saml2:SubjectConfirmationData InResponseTo="{InResponseTo}" NotOnOrAfter="{NotOnOrAfter}" Recipient="{Recipient}"/>' +
  '</saml2:SubjectConfirmation></saml2:Subject>' +
  '<saml2:Conditions NotBefore="{NotBefore}" NotOnOrAfter="{NotOnOrAfter}">' +
  '<saml2:AudienceRestriction><saml2:Audience>{Audience}</saml2:Audience></saml2:AudienceRestriction></saml2:Conditions>' +
  '<saml2:AuthnStatement AuthnInstant="{IssueInstant}"><saml2:AuthnContext>' +
  '<saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified</saml2:AuthnContextClassRef>' +
  '</saml2:AuthnContext></saml2:AuthnStatement>' +
  '{UserAttributeStatement}' +
  '</saml2:Assertion></saml2p:Response>';

const ATTRIBUTE_TEMPLATE = {
  context:
    '<saml2:Attribute Name="{Name}" NameFormat="{NameFormat}">' +
    '<saml2:AttributeValue xmlns:xs="{ValueXmlnsXs}" xmlns:xsi="{ValueXmlnsXsi}" xsi:type="{ValueXsiType}">{Value}</saml2:AttributeValue>' +
    '</saml2:Attribute>',
};
const ATTRIBUTE_STATEMENT_TEMPLATE = {
  context: '<saml2:AttributeStatement>{Attributes}</saml2:AttributeStatement>',
};

function newEntities(cfg, baseURL) {
  const idp = samlify.IdentityProvider({
    entityID: cfg.issuer,
    privateKey: cfg.keyPEM,
    signingCert: cfg.certPEM,
    wantAuthnRequestsSigned: false,
    nameIDFormat: [NAMEID_UNSPECIFIED],
    requestSignatureAlgorithm: cfg.sha1 ? Constants.algorithms.signature.RSA_SHA1 : Constants.algorithms.signature.RSA_SHA256,
    singleSignOnService: [
      { Binding: BINDING.redirect, Location: `${baseURL}/sso` },
      { Binding: BINDING.post, Location: `${baseURL}/sso` },
    ],
    loginResponseTemplate: { context: RESPONSE_TEMPLATE, attributes: [] },
  });
  const sp = samlify.ServiceProvider({
    entityID: cfg.spEntityId,
    assertionConsumerService: [{ Binding: BINDING.post, Location: cfg.spAcsUrl }],
    authnRequestsSigned: false,
    // Salesforce signs the Response, not the Assertion: these two settings
    // make samlify do the same (message signature only).
    wantAssertionsSigned: false,
    wantMessageSigned: true,
  });
  return { idp, sp };
}

// parseAuthnRequest reads an AuthnRequest sent with the HTTP-Redirect
// (query, deflated) or HTTP-POST (form body, not deflated) binding.
async function parseAuthnRequest(entities, binding, req) {
  const parsed = await entities.idp.parseLoginRequest(entities.sp, binding, req);
  const request = (parsed.extract && parsed.extract.request) || {};
  return {
    id: request.id || '',
    acsURL: request.assertionConsumerServiceUrl || '',
    issuer: parsed.extract.issuer || '',
  };
}

// attributeStatement builds the per-user AttributeStatement with samlify's
// builder and fills the values through samlify's escaping replacer. A
// multi-valued attribute gets one AttributeValue per value.
function attributeStatement(attributes) {
  if (attributes.length === 0) return '';
  const descriptors = attributes.map((a, i) => ({
    name: a.name,
    nameFormat: ATTRNAME_UNSPECIFIED,
    valueXsiType: 'xs:anyType',
    valueTag: `v${i}`,
  }));
  let xml = SamlLib.attributeStatementBuilder(descriptors, ATTRIBUTE_TEMPLATE, ATTRIBUTE_STATEMENT_TEMPLATE);
  const tags = {};
  attributes.forEach((a, i) => {
    const tag = `attrV${i}`; // samlify's tagging('attr', 'v<i>')
    const valueElement = new RegExp(`<saml2:AttributeValue ([^>]*)>\\{${tag}\\}</saml2:AttributeValue>`);
    const m = xml.match(valueElement);
    const copies = a.values.map((v, j) => {
      tags[`${tag}x${j}`] = v;
      return `<saml2:AttributeValue ${m[1]}>{${tag}x${j}}</saml2:AttributeValue>`;
    });
    xml = xml.replace(valueElement, () => copies.join(''));
  });
  return SamlLib.replaceTagsByValue(xml, tags);
}

// loginResponse returns the base64 SAMLResponse for user. requestID is the
// AuthnRequest ID, or '' for an unsolicited (IdP-initiated) response, in
// which case both InResponseTo attributes are left out.
async function loginResponse(entities, cfg, user, requestID) {
  const now = new Date(Date.now() + (cfg.clockOffsetMs || 0));
  const values = {
    ID: newID(),
    AssertionID: newID(),
    InResponseTo: requestID || undefined, // undefined drops the attribute
    Destination: cfg.spAcsUrl,
    Recipient: cfg.spAcsUrl,
    Audience: cfg.spEntityId,
    Issuer: cfg.issuer,
    IssueInstant: now.toISOString(),
    NotBefore: now.toISOString(),
    NotOnOrAfter: new Date(now.getTime() + VALIDITY_MS).toISOString(),
    StatusCode: cfg.denyUser && cfg.denyUser === user.username ? Constants.StatusCode.Requester : Constants.StatusCode.Success,
    NameIDFormat: NAMEID_UNSPECIFIED,
    NameID: user.username,
  };
  const statement = attributeStatement(user.attributes);
  const res = await entities.idp.createLoginResponse(
    entities.sp,
    { extract: { request: { id: requestID } } },
    'post',
    { email: user.username },
    {
      customTagReplacement: (template) => ({
        id: values.ID,
        context: SamlLib.replaceTagsByValue(template, values)
          .replace('{UserAttributeStatement}', () => statement),
      }),
    },
  );
  return res.context;
}

// Like Salesforce (and samlify's own generateID), IDs start with a letter
// or underscore so they are valid xs:ID values.
function newID() {
  return '_' + crypto.randomBytes(16).toString('hex');
}

module.exports = { newEntities, parseAuthnRequest, loginResponse, attributeStatement, BINDING };
