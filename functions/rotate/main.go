// Command rotate is the samlflex rotate Lambda function: the Secrets
// Manager rotation of the SP key set (createSecret, setSecret, testSecret,
// finishSecret) and, on a daily EventBridge schedule, the scan of every
// account's IdP certificates for upcoming expiry. Both write CloudWatch
// Embedded Metric Format lines to stdout, which the alarms read.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/samlflex/samlflex/internal/awsapp"
	"github.com/samlflex/samlflex/internal/config"
)

func main() {
	boot := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := config.Load(os.Getenv, config.Need{})
	if err != nil {
		boot.Error("cannot start", "err", err.Error())
		os.Exit(1)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel})).With("function", "rotate")
	clients, err := awsapp.NewClients(context.Background(), cfg, logger)
	if err != nil {
		logger.Error("cannot start", "err", err.Error())
		os.Exit(1)
	}
	handle, err := awsapp.NewRotate(cfg, awsapp.RotateDeps{DynamoDB: clients.DynamoDB, SecretsManager: clients.SecretsManager, EMF: os.Stdout}, logger)
	if err != nil {
		logger.Error("cannot start", "err", err.Error())
		os.Exit(1)
	}
	lambda.Start(handle)
}
