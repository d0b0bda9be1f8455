// Command acs is the samlflex acs Lambda function (API Gateway HTTP API,
// payload 2.0). It serves the same handler as `samlflex serve`; the stack
// routes the login link and the ACS to it.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/samlflex/samlflex/internal/awsapp"
	"github.com/samlflex/samlflex/internal/config"
	"github.com/samlflex/samlflex/internal/lambdahttp"
)

func main() {
	boot := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := config.Load(os.Getenv, config.Need{BaseURL: true, Assertions: true})
	if err != nil {
		boot.Error("cannot start", "err", err.Error())
		os.Exit(1)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel})).With("function", "acs")
	clients, err := awsapp.NewClients(context.Background(), cfg)
	if err != nil {
		logger.Error("cannot start", "err", err.Error())
		os.Exit(1)
	}
	h, err := awsapp.NewHTTP(cfg, awsapp.HTTPDeps{DynamoDB: clients.DynamoDB, SecretsManager: clients.SecretsManager}, logger)
	if err != nil {
		logger.Error("cannot start", "err", err.Error())
		os.Exit(1)
	}
	lambda.Start(lambdahttp.New(h, logger).Handle)
}
