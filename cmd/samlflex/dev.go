package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/samlflex/samlflex/internal/demo"
	"github.com/samlflex/samlflex/internal/httpapi"
	"github.com/samlflex/samlflex/internal/keys/filekeys"
	"github.com/samlflex/samlflex/internal/store"
	"github.com/samlflex/samlflex/internal/store/sqlitestore"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

const devAbout = `Runs the whole login flow on this computer with one command: the samlflex
service provider (embedded store and file keys in DIR), a demo identity
provider standing in for Salesforce ("TEST IdP, local only"), and a demo
landing page standing in for the Flex agent desktop. The demo account
` + demoAccountSID + ` is created or updated at every
start, so that it matches the address and the demo IdP certificate of this
run (changes made to it with "samlflex account put" do not survive).

Open the login link it prints, sign in as one of the demo users, and the
landing page shows who samlflex signed in. It listens on loopback only.`

// demoAccountSID is the demo account: the Account SID shape (AC and 32 hex
// digits) with a pattern nobody will mistake for a real account.
const demoAccountSID = "ACdeadbeefdeadbeefdeadbeefdeadbeef"

func runDev(ctx context.Context, a *app, args []string) int {
	c, _ := findCommand("dev")
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "`HOST:PORT` to listen on, loopback only; port 0 picks a free port")
	data := fs.String("data", devDataDirDefault(a.getenv), "`DIR` for the embedded store, the SP keys and the demo IdP key\n(default $SAMLFLEX_DEV_DATA, else ./.samlflex-dev; never serve's directory:\nserve refuses to run with the demo account)")
	logFormat := fs.String("log-format", "auto", logFormatUsage)
	tokenAlgFlag := sessionTokenAlgFlag(fs, a.getenv)
	if code, done := a.parseFlags(c, fs, args); done {
		return code
	}
	tokenAlg, err := parseSessionTokenAlg(*tokenAlgFlag)
	if err != nil {
		return a.usageError(c, "%v", err)
	}
	// The demo IdP signs for anyone who knows the printed password: it
	// must never be reachable from the network.
	if !isLoopbackAddr(*addr) {
		return a.usageError(c, "--addr %q is not a loopback address: the demo IdP has public passwords, so dev listens on 127.0.0.1 (or ::1, localhost) only", *addr)
	}
	logger, err := newFormatLogger(a.stdout, a.getenv, *logFormat)
	if err != nil {
		return a.usageError(c, "%v", err)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return a.failure(c, "cannot listen on %s: %v (is another samlflex running? --addr 127.0.0.1:0 picks a free port)", *addr, err)
	}
	defer func() { _ = ln.Close() }()
	base := baseURLFor(ln)
	dataDir, err := filepath.Abs(*data)
	if err != nil {
		return a.failure(c, "data directory %s: %v", *data, err)
	}

	st, ev, err := openEmbedded(ctx, dataDir, sqlitestore.Options{SweepEvery: sweepEvery, Logger: logger}, a.now())
	if err != nil {
		return a.failure(c, "%s", storeFailure(err))
	}
	if ev != nil {
		ev.log(ctx, logger)
	}
	defer func() { _ = st.Close() }()
	logStoreState(ctx, logger, st)
	keySrc, err := filekeys.Open(dataDir, a.now, logger)
	if err != nil {
		return a.failure(c, "SP keys: %v", err)
	}
	idpKey, err := demo.LoadOrCreateIdPKey(dataDir, a.now(), logger)
	if err != nil {
		return a.failure(c, "demo IdP key: %v", err)
	}
	acct := demo.Account(base, demoAccountSID, idpKey)
	if err := upsertAccount(ctx, st, acct, a.now()); err != nil {
		return a.failure(c, "saving the demo account: %v", err)
	}

	api, err := httpapi.New(httpapi.Config{BaseURL: base, Store: st, Keys: keySrc, Logger: logger, Now: a.now,
		Provisioner: newFlexProvisioner(dataDir, logger), SessionTokenAlg: tokenAlg})
	if err != nil {
		return a.failure(c, "%v", err)
	}
	demoHandler, err := demo.New(demo.Config{BaseURL: base, AccountSID: demoAccountSID, IdPKey: idpKey, Now: a.now, Logger: logger})
	if err != nil {
		return a.failure(c, "%v", err)
	}
	mux := http.NewServeMux()
	mux.Handle(demo.IndexPath, demoHandler)
	mux.Handle("GET /{$}", http.RedirectHandler(demo.IndexPath, http.StatusFound))
	mux.Handle("/", api)

	urls, err := samlflex.URLsFor(base, demoAccountSID)
	if err != nil {
		return a.failure(c, "%v", err)
	}
	info := serving{Addr: ln.Addr().String(), BaseURL: base, DataDir: dataDir, LoginURL: urls.Login}
	printDevBanner(a.stdout, info)
	logger.Info("serving", "addr", info.Addr, "base_url", base, "data", dataDir, "demo_account_sid", demoAccountSID)
	if a.onServing != nil {
		a.onServing(info)
	}
	if err := serveUntilDone(ctx, newHTTPServer(mux, logger), ln, logger); err != nil {
		return a.failure(c, "%v", err)
	}
	return exitOK
}

// upsertAccount creates acct or replaces the stored one. A conflict means
// that `samlflex account put` changed it in the same instant; dev reports
// it rather than overwrite that change.
func upsertAccount(ctx context.Context, accounts store.Accounts, acct samlflex.Account, now time.Time) error {
	if err := acct.Validate(now); err != nil {
		return err
	}
	var expect int64
	stored, err := accounts.Get(ctx, acct.AccountSID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	default:
		expect = stored.Version
	}
	_, err = accounts.Put(ctx, acct, expect, now)
	return err
}

func printDevBanner(w io.Writer, s serving) {
	var b strings.Builder
	fmt.Fprintf(&b, `
samlflex dev is running on this computer: the service provider, a demo
identity provider (TEST IdP, local only) and a demo agent desktop.

  Login link (open it in a browser):
    %s

  Start page:            %s
  IdP-initiated login:   %s

  Demo users (the password of every one is %q):
`, s.LoginURL, s.BaseURL+demo.IndexPath, s.BaseURL+demo.IdPInitiatedPath, demo.Password)
	tw := tabwriter.NewWriter(&b, 0, 4, 3, ' ', 0)
	for _, u := range demo.DefaultUsers() {
		fmt.Fprintf(tw, "    %s\t%s\t%s\n", u.Username, u.FullName, u.RolesValue())
	}
	_ = tw.Flush()
	fmt.Fprintf(&b, `
  Demo account:          %s (%s)
  Data directory:        %s
                         (embedded store, SP keys, demo IdP key)

Press Ctrl-C to stop.

`, demoAccountSID, demo.FriendlyName, s.DataDir)
	_, _ = io.WriteString(w, b.String())
}
