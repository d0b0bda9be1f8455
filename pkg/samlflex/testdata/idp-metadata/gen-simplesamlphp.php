<?php
// Generates SimpleSAMLphp IdP metadata for samlflex test fixtures with
// SimpleSAMLphp's own SAMLBuilder, the way www/saml2/idp/metadata.php
// does (see README.md). Usage: one OLD.crt | two OLD.crt NEW.crt
require_once('/usr/share/simplesamlphp/lib/_autoload.php');
use SAML2\Constants;
function certData($f) {
  $c = file_get_contents($f);
  $c = preg_replace('/-----(BEGIN|END) CERTIFICATE-----/', '', $c);
  return preg_replace('/\s+/', '', $c);
}
$mode = $argv[1];
$entity = 'https://idp.example.org/simplesaml/saml2/idp/metadata.php';
$base = 'https://idp.example.org/simplesaml/';
$meta = ['metadata-set' => 'saml20-idp-remote', 'entityid' => $entity];
// The defaults of saml20-idp-hosted: SSO and SLO over HTTP-Redirect.
$meta['SingleSignOnService'][] = ['Binding' => Constants::BINDING_HTTP_REDIRECT, 'Location' => $base . 'saml2/idp/SSOService.php'];
$meta['SingleLogoutService'][] = ['Binding' => Constants::BINDING_HTTP_REDIRECT, 'Location' => $base . 'saml2/idp/SingleLogoutService.php'];
$old = certData($argv[2]);
if ($mode === 'one') {
  $meta['certData'] = $old;
} else {
  $new = certData($argv[3]);
  $meta['keys'] = [
    ['type' => 'X509Certificate', 'signing' => true, 'encryption' => true, 'X509Certificate' => $new],
    ['type' => 'X509Certificate', 'signing' => true, 'encryption' => false, 'X509Certificate' => $old],
  ];
}
$meta['NameIDFormat'] = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';
$b = new \SimpleSAML\Metadata\SAMLBuilder($entity);
$b->addMetadataIdP20($meta);
$b->addOrganizationInfo($meta);
echo $b->getEntityDescriptorText();
