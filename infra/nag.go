package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// ApplyNag runs cdk-nag's AwsSolutions rules on everything under scope at
// synth time. Findings become error/warning annotations. With cdk.json's
// @aws-cdk/core:annotationsInValidationReport flag an unsuppressed error
// fails synthesis itself (so `cdk synth`, `cdk deploy` and a bare
// `go run .`); the tests also fail on unsuppressed warnings.
func ApplyNag(scope constructs.Construct) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{
		Verbose: jsii.Bool(true),
	}), nil)
}

// suppress records why a rule does not apply to construct (and its
// children). Every suppression lives next to the resource it is about, so
// that a reviewer sees the reason where the resource is defined.
func suppress(construct constructs.IConstruct, ruleID, reason string, appliesTo ...string) {
	s := &cdknag.NagPackSuppression{Id: jsii.String(ruleID), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		list := make([]interface{}, len(appliesTo))
		for i, a := range appliesTo {
			list[i] = a
		}
		s.AppliesTo = &list
	}
	cdknag.NagSuppressions_AddResourceSuppressions(construct, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(true))
}
