package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// Route is one HTTP API route and the function that serves it.
type Route struct {
	Method   awsapigatewayv2.HttpMethod
	Path     string
	Function string // FnACS or FnMetadata
}

// Routes is the HTTP contract with the runtime (internal/httpapi).
//
// HEAD is routed where httpapi answers it without side effects: metadata
// and JWKS (headers and ETag, no body) and the health check, which
// monitors and link checkers probe with HEAD. HTTP API matches methods
// exactly, so without these routes HEAD answers API Gateway's own 404. The
// login link is GET only: a HEAD there would start a login (a cookie and a
// log line) for a client that never follows it.
func Routes() []Route {
	return []Route{
		{awsapigatewayv2.HttpMethod_GET, "/v1/Accounts/{AccountSid}/saml2/metadata", FnMetadata},
		{awsapigatewayv2.HttpMethod_HEAD, "/v1/Accounts/{AccountSid}/saml2/metadata", FnMetadata},
		{awsapigatewayv2.HttpMethod_GET, "/.well-known/jwks.json", FnMetadata},
		{awsapigatewayv2.HttpMethod_HEAD, "/.well-known/jwks.json", FnMetadata},
		{awsapigatewayv2.HttpMethod_GET, "/healthz", FnMetadata},
		{awsapigatewayv2.HttpMethod_HEAD, "/healthz", FnMetadata},
		{awsapigatewayv2.HttpMethod_GET, "/v1/Accounts/{AccountSid}/saml2/login", FnACS},
		{awsapigatewayv2.HttpMethod_POST, "/v1/Accounts/{AccountSid}/saml2", FnACS},
	}
}

type api struct {
	api     awsapigatewayv2.HttpApi
	stage   awsapigatewayv2.HttpStage
	domain  awsapigatewayv2.DomainName // nil without a custom domain
	baseURL *string                    // no trailing slash
	// executeAPIDisabled: the execute-api endpoint is off (custom domain
	// only).
	executeAPIDisabled bool
}

// newAPI creates the HTTP API with its $default stage (throttling, access
// log) and, if configured, the custom domain. Routes come later
// (addRoutes) because the functions need baseURL first.
func newAPI(stack awscdk.Stack, cfg Config, logRetention awslogs.RetentionDays) *api {
	a := &api{executeAPIDisabled: cfg.DisableExecuteApiEndpoint}
	a.api = awsapigatewayv2.NewHttpApi(stack, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		Description: jsii.String("samlflex SAML service provider"),
		// Our own $default stage below carries throttling and access logs.
		CreateDefaultStage:        jsii.Bool(false),
		DisableExecuteApiEndpoint: jsii.Bool(cfg.DisableExecuteApiEndpoint),
	})
	accessLogs := awslogs.NewLogGroup(stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     logRetention,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	a.stage = awsapigatewayv2.NewHttpStage(stack, jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    a.api,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(cfg.ThrottleRateLimit),
			BurstLimit: jsii.Number(cfg.ThrottleBurstLimit),
		},
		AccessLogSettings: &accessLogSettings{
			destination: awsapigatewayv2.NewLogGroupLogDestination(accessLogs),
			format:      awsapigateway.AccessLogFormat_Custom(jsii.String(accessLogFormat)),
		},
	})
	if cfg.DomainName == "" {
		// (ApiEndpoint panics when the endpoint is disabled, which
		// Validate allows only with a custom domain.)
		a.baseURL = a.api.ApiEndpoint()
	} else {
		a.domain = awsapigatewayv2.NewDomainName(stack, jsii.String("CustomDomain"), &awsapigatewayv2.DomainNameProps{
			DomainName:     jsii.String(cfg.DomainName),
			Certificate:    awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("CustomDomainCertificate"), jsii.String(cfg.CertificateArn)),
			SecurityPolicy: awsapigatewayv2.SecurityPolicy_TLS_1_2,
		})
		awsapigatewayv2.NewApiMapping(stack, jsii.String("CustomDomainMapping"), &awsapigatewayv2.ApiMappingProps{
			Api:        a.api,
			DomainName: a.domain,
			Stage:      a.stage,
		})
		a.baseURL = jsii.String("https://" + cfg.DomainName)
	}
	return a
}

// accessLogFormat is one JSON object per request. It logs the route and the
// path, never the query string (the login link's RelayState) or the body
// (the SAMLResponse).
const accessLogFormat = `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",` +
	`"requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","routeKey":"$context.routeKey",` +
	`"path":"$context.path","status":"$context.status","protocol":"$context.protocol",` +
	`"responseLength":"$context.responseLength","responseLatency":"$context.responseLatency",` +
	`"integrationLatency":"$context.integrationLatency","integrationError":"$context.integrationErrorMessage",` +
	`"userAgent":"$context.identity.userAgent"}`

// accessLogSettings implements awsapigatewayv2.IAccessLogSettings.
type accessLogSettings struct {
	destination awsapigatewayv2.IAccessLogDestination
	format      awsapigateway.AccessLogFormat
}

func (s *accessLogSettings) Destination() awsapigatewayv2.IAccessLogDestination {
	return s.destination
}
func (s *accessLogSettings) Format() awsapigateway.AccessLogFormat { return s.format }

// addRoutes adds Routes(), each with a Lambda proxy integration (payload
// format 2.0) whose invoke permission is scoped to that route: its path
// and its method (scopeInvokeToMethod).
func (a *api) addRoutes(stack awscdk.Stack, fns *functions) error {
	integrations := map[string]awsapigatewayv2integrations.HttpLambdaIntegration{}
	for _, f := range []*lambdaFn{fns.acs, fns.metadata} {
		integrations[f.name] = awsapigatewayv2integrations.NewHttpLambdaIntegration(
			jsii.String(f.name+"-integration"), f.fn,
			&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
				PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
			})
	}
	for _, r := range Routes() {
		routes := a.api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.Path),
			Methods:     &[]awsapigatewayv2.HttpMethod{r.Method},
			Integration: integrations[r.Function],
		})
		for _, route := range *routes {
			suppress(route, "AwsSolutions-APIG4",
				"Public by design: browsers reach these routes without credentials (the login link, "+
					"Salesforce's POST of the signed SAMLResponse to the ACS, and metadata/JWKS/health that "+
					"IdPs and Flex fetch). The ACS authenticates each request by the SAML signature.")
			if err := a.scopeInvokeToMethod(stack, route, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// scopeInvokeToMethod narrows the invoke permission that the integration
// gave API Gateway for route r from any method (<api>/*/*/<path>) to r's
// own (<api>/*/<METHOD>/<path>): the ACS function may then be invoked for
// POST on the ACS path and GET on the login path, and nothing else, even
// if a route is later added by hand in the console. The stage stays "*".
// The path is the route's, with its {AccountSid} as written: that is the
// resource path API Gateway names in the source ARN of an HTTP API.
//
// HttpLambdaIntegration adds the permission as a child of the route named
// "<integration id>-Permission"; if CDK ever renames it, synthesis fails
// here instead of silently keeping the wider permission.
func (a *api) scopeInvokeToMethod(stack awscdk.Stack, route awsapigatewayv2.HttpRoute, r Route) error {
	id := r.Function + "-integration-Permission"
	perm, ok := route.Node().TryFindChild(jsii.String(id)).(awslambda.CfnPermission)
	if !ok {
		return fmt.Errorf("route %s %s: no invoke permission %q under it to scope (did aws-cdk-lib change HttpLambdaIntegration?)", r.Method, r.Path, id)
	}
	perm.AddPropertyOverride(jsii.String("SourceArn"), stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("execute-api"),
		Resource:     a.api.ApiId(),
		ResourceName: jsii.String("*/" + string(r.Method) + r.Path),
	}))
	return nil
}
