package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()

	app := awscdk.NewApp(nil)
	cfg, err := ConfigFromContext(app.Node())
	if err != nil {
		fmt.Fprintln(os.Stderr, "samlflex infra:", err)
		os.Exit(2)
	}
	// Environment-agnostic (no Env): nothing here looks up account-specific
	// values at synth time, and `cdk deploy` targets the admin's profile.
	if _, err := NewStack(app, "Samlflex", &StackProps{
		StackProps: awscdk.StackProps{
			Description: jsii.String("samlflex: SAML service provider from Salesforce to Twilio Flex"),
		},
		Config: cfg,
	}); err != nil {
		fmt.Fprintln(os.Stderr, "samlflex infra:", err)
		os.Exit(2)
	}
	ApplyNag(app)
	app.Synth(nil)
}
