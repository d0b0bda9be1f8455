package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// main only wires: the signal context (the one context.Background of the
// program) and the process's standard streams and environment. Everything
// else is in run, which tests call in-process.
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
