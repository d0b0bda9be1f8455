package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"time"

	"github.com/samlflex/samlflex/internal/config"
	"github.com/samlflex/samlflex/internal/httpapi"
	"github.com/samlflex/samlflex/internal/keys/filekeys"
	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/sqlitestore"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

const serveAbout = `Runs the samlflex service provider on this machine: the same HTTP handler
as the Lambda functions, with the embedded store (DIR/samlflex.sqlite) and
file keys (DIR/sp-keys.json, created on first start). No demo identity
provider.
Logs go to stdout: text on a terminal, JSON otherwise (--log-format; level
from $SAMLFLEX_LOG_LEVEL). Ctrl-C or SIGTERM
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
	logFormat := fs.String("log-format", "auto", logFormatUsage)
	tokenAlgFlag := sessionTokenAlgFlag(fs, a.getenv)
	if code, done := a.parseFlags(c, fs, args); done {
		return code
	}
	tokenAlg, err := parseSessionTokenAlg(*tokenAlgFlag)
	if err != nil {
		return a.usageError(c, "%v", err)
	}
	if *baseURL == "" && !isLoopbackAddr(*addr) {
		return a.usageError(c, "--base-url is required when --addr %q is not a loopback address", *addr)
	}
	if *baseURL != "" {
		if err := checkBaseURL(*baseURL); err != nil {
			return a.usageError(c, "--base-url %q: %s", *baseURL, err)
		}
	}
	logger, err := newFormatLogger(a.stdout, a.getenv, *logFormat)
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
	logStoreState(ctx, logger, st)
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
		Provisioner: newFlexProvisioner(*data, logger), ACSConcurrency: limit, ACSQueue: queue, ACSQueueWait: wait, SessionTokenAlg: tokenAlg})
	if err != nil {
		_ = ln.Close()
		return a.failure(c, "%v", err)
	}
	abs, _ := filepath.Abs(*data)
	logger.Info("serving", "addr", ln.Addr().String(), "base_url", *baseURL, "data", abs)
	printServeBanner(ctx, a.stderr, st, ln.Addr().String(), *baseURL, abs)
	if a.onServing != nil {
		a.onServing(serving{Addr: ln.Addr().String(), BaseURL: *baseURL, DataDir: abs})
	}
	if err := serveUntilDone(ctx, newHTTPServer(api, logger), ln, logger); err != nil {
		return a.failure(c, "%v", err)
	}
	return exitOK
}

// printServeBanner tells the person who started serve where it listens and
// the login link of each account. It goes to stderr: stdout is the log
// stream, which a collector may parse as JSON.
func printServeBanner(ctx context.Context, w io.Writer, accounts store.Accounts, addr, baseURL, dataDir string) {
	fmt.Fprintf(w, "\nsamlflex serve is listening on %s\n  Base URL:        %s\n  Data directory:  %s\n\n", addr, baseURL, dataDir)
	accts, err := accounts.List(ctx)
	switch {
	case err != nil:
		fmt.Fprintf(w, "  Accounts: cannot list them (%s)\n", storeFailure(err))
	case len(accts) == 0:
		fmt.Fprintf(w, "  No accounts yet: add one with \"samlflex account put\" (--help); serve\n  picks it up without a restart.\n")
	default:
		fmt.Fprintf(w, "  Accounts and their login links (samlflex account get prints the rest):\n")
		for _, acct := range accts {
			if u, err := samlflex.URLsFor(baseURL, acct.AccountSID); err == nil {
				fmt.Fprintf(w, "    %s  %s\n      %s\n", acct.AccountSID, acct.FriendlyName, u.Login)
			}
		}
	}
	fmt.Fprintf(w, "\nPress Ctrl-C to stop.\n\n")
}
