package main

import (
	"context"
	"flag"
	"net"
	"path/filepath"
	"runtime"
	"time"

	"github.com/samlflex/samlflex/internal/config"
	"github.com/samlflex/samlflex/internal/httpapi"
	"github.com/samlflex/samlflex/internal/keys/filekeys"
	"github.com/samlflex/samlflex/internal/store/sqlitestore"
)

const serveAbout = `Runs the samlflex service provider on this machine: the same HTTP handler
as the Lambda functions, with the embedded store (DIR/samlflex.sqlite) and
file keys (DIR/sp-keys.json, created on first start). No demo identity
provider.
Logs are JSON on stdout (level from $SAMLFLEX_LOG_LEVEL). Ctrl-C or SIGTERM
stop it gracefully.

"samlflex account put" (get, list, delete) works on the same --data
directory while serve runs, and serve reads account settings at every
request, so a change applies to the next login without a restart. A
directory of an older samlflex (DIR/samlflex.db) is migrated at start.`

// sweepEvery is how often the embedded store drops expired assertion IDs.
const sweepEvery = 10 * time.Minute

func runServe(ctx context.Context, a *app, args []string) int {
	c, _ := findCommand("serve")
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "`HOST:PORT` to listen on; port 0 picks a free port")
	baseURL := fs.String("base-url", a.getenv(config.EnvBaseURL), "public base `URL` that Salesforce and agents use (https://sso.example.com);\nthe Entity Id and ACS URL derive from it (default $SAMLFLEX_BASE_URL,\nelse http://ADDR when ADDR is a loopback address)")
	data := fs.String("data", dataDirDefault(a.getenv), "`DIR` of the embedded store and the SP keys (default $SAMLFLEX_DATA,\nelse ./.samlflex)")
	if code, done := a.parseFlags(c, fs, args); done {
		return code
	}
	if *baseURL == "" && !isLoopbackAddr(*addr) {
		return a.usageError(c, "--base-url is required when --addr %q is not a loopback address", *addr)
	}
	if *baseURL != "" {
		if err := checkBaseURL(*baseURL); err != nil {
			return a.usageError(c, "--base-url %q: %s", *baseURL, err)
		}
	}
	logger, err := newLogger(a.stdout, a.getenv)
	if err != nil {
		return a.usageError(c, "%v", err)
	}

	st, ev, err := openEmbedded(ctx, *data, sqlitestore.Options{SweepEvery: sweepEvery, Logger: logger}, a.now())
	if err != nil {
		return a.failure(c, "%s", storeFailure(err))
	}
	if ev != nil {
		ev.log(ctx, logger)
	}
	defer func() { _ = st.Close() }()
	if err := refuseDemoAccounts(ctx, st, *data); err != nil {
		return a.failure(c, "%v", err)
	}
	keySrc, err := filekeys.Open(*data, a.now, logger)
	if err != nil {
		return a.failure(c, "SP keys: %v", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return a.failure(c, "cannot listen on %s: %v", *addr, err)
	}
	if *baseURL == "" {
		*baseURL = baseURLFor(ln)
	}
	limit, queue, wait := httpapi.DefaultACSLimits(runtime.GOMAXPROCS(0))
	api, err := httpapi.New(httpapi.Config{BaseURL: *baseURL, Store: demoFreeStore{st, logger}, Keys: keySrc, Logger: logger, Now: a.now,
		Provisioner: newFlexProvisioner(*data, logger), ACSConcurrency: limit, ACSQueue: queue, ACSQueueWait: wait})
	if err != nil {
		_ = ln.Close()
		return a.failure(c, "%v", err)
	}
	abs, _ := filepath.Abs(*data)
	logger.Info("serving", "addr", ln.Addr().String(), "base_url", *baseURL, "data", abs)
	if a.onServing != nil {
		a.onServing(serving{Addr: ln.Addr().String(), BaseURL: *baseURL, DataDir: abs})
	}
	if err := serveUntilDone(ctx, newHTTPServer(api, logger), ln, logger); err != nil {
		return a.failure(c, "%v", err)
	}
	return exitOK
}
