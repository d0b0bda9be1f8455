package main

import (
	"testing"
)

// checkCustomDomain: with a domain the base URL (and so every Entity ID
// and ACS URL) is https://<domain>, which survives replacing the HTTP API.
func checkCustomDomain(t *testing.T, s *synthesized) {
	t.Helper()
	apiID := s.logicalID(t, "HttpApi")

	domains := s.ofType("AWS::ApiGatewayV2::DomainName")
	if len(domains) != 1 {
		t.Fatalf("got %d domain names, want 1", len(domains))
	}
	var domainID string
	for id, d := range domains {
		domainID = id
		p := props(d)
		if p["DomainName"] != "sso.example.com" {
			t.Errorf("domain %v", p["DomainName"])
		}
		cfg := strings0(p["DomainNameConfigurations"])
		if len(cfg) != 1 || dig(cfg[0], "CertificateArn") != testCertificateArn ||
			dig(cfg[0], "EndpointType") != "REGIONAL" || dig(cfg[0], "SecurityPolicy") != "TLS_1_2" {
			t.Errorf("domain configuration %v", cfg)
		}
	}
	mappings := s.ofType("AWS::ApiGatewayV2::ApiMapping")
	if len(mappings) != 1 {
		t.Fatalf("got %d API mappings, want 1", len(mappings))
	}
	for _, m := range mappings {
		p := props(m)
		// Stage is the name; DependsOn orders the mapping after the stage.
		if refTo(p["ApiId"]) != apiID || refTo(p["DomainName"]) != domainID || p["Stage"] != "$default" ||
			!containsPrefix(strings0(m["DependsOn"]), s.logicalID(t, "DefaultStage")) {
			t.Errorf("mapping %v", m)
		}
		if k, ok := p["ApiMappingKey"]; ok && k != "" {
			t.Errorf("mapping key %v: routes must stay at the domain root", k)
		}
	}
	for _, name := range []string{"Acs", "Metadata"} { // rotate serves no HTTP
		fn := s.resources[s.logicalID(t, name)]
		if got := dig(props(fn), "Environment", "Variables", "SAMLFLEX_BASE_URL"); got != "https://sso.example.com" {
			t.Errorf("%s: SAMLFLEX_BASE_URL %v", name, got)
		}
	}
	if got := dig(s.outputs, "BaseUrl", "Value"); got != "https://sso.example.com" {
		t.Errorf("BaseUrl %v", got)
	}
	if !getAtt(dig(s.outputs, "CustomDomainTarget", "Value"), domainID, "RegionalDomainName") {
		t.Errorf("CustomDomainTarget %v", s.outputs["CustomDomainTarget"])
	}
	checkExecuteAPIEndpoint(t, s, true)
}

// checkExecuteAPIEndpoint: the API's own endpoint is on (with the
// ExecuteApiEndpoint output when there is a custom domain) or off (no
// output: there is nothing to point at).
func checkExecuteAPIEndpoint(t *testing.T, s *synthesized, on bool) {
	t.Helper()
	apiID := s.logicalID(t, "HttpApi")
	disabled := props(s.resources[apiID])["DisableExecuteApiEndpoint"]
	if on && disabled != nil && disabled != false {
		t.Errorf("DisableExecuteApiEndpoint %v, want the endpoint on", disabled)
	}
	if !on && disabled != true {
		t.Errorf("DisableExecuteApiEndpoint %v, want true", disabled)
	}
	_, hasOutput := s.outputs["ExecuteApiEndpoint"]
	if on && !getAtt(dig(s.outputs, "ExecuteApiEndpoint", "Value"), apiID, "ApiEndpoint") {
		t.Errorf("ExecuteApiEndpoint %v, want the API endpoint", s.outputs["ExecuteApiEndpoint"])
	}
	if !on && hasOutput {
		t.Errorf("ExecuteApiEndpoint output %v with the endpoint off", s.outputs["ExecuteApiEndpoint"])
	}
}
