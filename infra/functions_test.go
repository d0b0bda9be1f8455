package main

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
)

// TestApplicationLogLevel: every logLevel that Validate accepts maps to the
// Lambda application log level of the same name (the template tests see
// info and debug).
func TestApplicationLogLevel(t *testing.T) {
	t.Parallel()
	for level, want := range map[string]awslambda.ApplicationLogLevel{
		"debug": awslambda.ApplicationLogLevel_DEBUG,
		"info":  awslambda.ApplicationLogLevel_INFO,
		"warn":  awslambda.ApplicationLogLevel_WARN,
		"error": awslambda.ApplicationLogLevel_ERROR,
	} {
		t.Run(level, func(t *testing.T) {
			t.Parallel()
			if err := (Config{LogLevel: level}).withDefaults().Validate(); err != nil {
				t.Fatalf("logLevel %q: %v", level, err)
			}
			if got := applicationLogLevel(level); got != want {
				t.Errorf("logLevel %q: application log level %v, want %v", level, got, want)
			}
		})
	}
}
