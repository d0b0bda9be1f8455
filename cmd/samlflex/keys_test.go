package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/samlflex/samlflex/internal/awsfake/smfake"
	"github.com/samlflex/samlflex/internal/keys"
	"github.com/samlflex/samlflex/internal/keys/filekeys"
	"github.com/samlflex/samlflex/internal/samlflextest"
)

// jwksKids fetches the JWKS of a running server.
func jwksKids(t *testing.T, base string) []string {
	t.Helper()
	resp, err := http.Get(base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var doc struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range doc.Keys {
		out = append(out, k.Kid)
	}
	return out
}

var kidLine = regexp.MustCompile(`(?m)^\s+(previous|current|next)\s+(\S+)\s`)

// showKids parses `keys show` into slot → kid.
func showKids(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, g := range kidLine.FindAllStringSubmatch(out, -1) {
		m[g[1]] = g[2]
	}
	if m["current"] == "" {
		t.Fatalf("no current key in:\n%s", out)
	}
	return m
}

// TestKeysEmergencyLocal runs the documented local procedure against a
// running `samlflex serve`, checking its JWKS URL at each step.
func TestKeysEmergencyLocal(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	s, _ := startServer(t, nil, "serve", "--addr", "127.0.0.1:0", "--data", data)
	show := mustCLI(t, exitOK, nil, "keys", "show", "--data", data).stdout
	before := showKids(t, show)
	// keys show names every kid of the JWKS: each key's and its token key's.
	if kids := jwksKids(t, s.BaseURL); len(kids) != 4 {
		t.Errorf("JWKS = %v, want current and next with their token keys", kids)
	} else {
		for _, k := range kids {
			if !strings.Contains(show, k) {
				t.Errorf("keys show does not name the published kid %s:\n%s", k, show)
			}
		}
	}

	r := mustCLI(t, exitOK, nil, "keys", "rotate", "--now", "--data", data)
	after := showKids(t, r.stdout)
	if after["current"] == before["current"] || after["current"] == before["next"] || after["previous"] != before["current"] {
		t.Fatalf("rotate --now: %v -> %v", before, after)
	}
	for _, want := range []string{"keys revoke --kid " + before["current"], "Verify Request Signatures", "next request"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("rotate --now output lacks %q:\n%s", want, r.stdout)
		}
	}
	kids := jwksKids(t, s.BaseURL)
	if !slices.Contains(kids, after["current"]) || !slices.Contains(kids, before["current"]) || slices.Contains(kids, before["next"]) {
		t.Errorf("JWKS after rotate --now = %v; want the new key and the old current one, not the old next", kids)
	}

	// The current key cannot be revoked alone; the message says what to do.
	r = mustCLI(t, exitUsage, nil, "keys", "revoke", "--kid", after["current"], "--data", data)
	if !strings.Contains(r.stderr, "keys rotate --now --retire-previous --data "+data) || !strings.Contains(r.stderr, "Nothing was changed") {
		t.Errorf("revoke current: %s", r.stderr)
	}
	if r := mustCLI(t, exitFailure, nil, "keys", "revoke", "--kid", "nope", "--data", data); !strings.Contains(r.stderr, `no key "nope"`) {
		t.Errorf("revoke unknown: %s", r.stderr)
	}

	mustCLI(t, exitOK, nil, "keys", "revoke", "--kid", before["current"], "--data", data)
	if kids := jwksKids(t, s.BaseURL); slices.Contains(kids, before["current"]) || !slices.Contains(kids, after["current"]) {
		t.Errorf("JWKS after revoke = %v, still has %s", kids, before["current"])
	}

	// --retire-previous drops the replaced key at once.
	mustCLI(t, exitOK, nil, "keys", "rotate", "--now", "--retire-previous", "--data", data)
	final := showKids(t, mustCLI(t, exitOK, nil, "keys", "show", "--data", data).stdout)
	if final["previous"] != "" || final["current"] == after["current"] {
		t.Errorf("after --retire-previous: %v", final)
	}
	// Current and next remain, each with its RSA key and its token key.
	if kids := jwksKids(t, s.BaseURL); slices.Contains(kids, after["current"]) || len(kids) != 4 {
		t.Errorf("JWKS after --retire-previous = %v", kids)
	}

	// A normal rotation promotes the published next key.
	normal := showKids(t, mustCLI(t, exitOK, nil, "keys", "rotate", "--data", data).stdout)
	if normal["current"] != final["next"] || normal["previous"] != final["current"] {
		t.Errorf("normal rotation: %v -> %v", final, normal)
	}
}

func TestKeysUsage(t *testing.T) {
	t.Parallel()
	empty := filepath.Join(t.TempDir(), "nothing-here")
	tests := []usageCase{
		{"retire-previous without now", nil, []string{"keys", "rotate", "--retire-previous", "--data", empty}, exitUsage, "only applies to --now"},
		{"revoke without kid", nil, []string{"keys", "revoke", "--data", empty}, exitUsage, "--kid is required"},
		{"both stores", nil, []string{"keys", "show", "--data", empty, "--secret-id", "x"}, exitUsage, "not both"},
		{"endpoint without secret", nil, []string{"keys", "show", "--data", empty, "--secrets-manager-endpoint", "http://127.0.0.1:1"}, exitUsage, "needs --secret-id"},
		{"no key file", nil, []string{"keys", "show", "--data", empty}, exitFailure, "samlflex serve --data " + empty},
		{"explicit data beats the environment's secret", map[string]string{"SAMLFLEX_KEYS_SECRET_ID": "x"}, []string{"keys", "show", "--data", empty}, exitFailure, "no key file"},
	}
	runUsageCases(t, tests)
	if r := mustCLI(t, exitOK, nil, "help", "keys", "rotate"); !strings.Contains(r.stdout, "--retire-previous") {
		t.Errorf("help: %s", r.stdout)
	}
	if r := mustCLI(t, exitUsage, nil, "keys"); !strings.Contains(r.stderr, "revoke") || !strings.Contains(r.stderr, "docs/keys.md") {
		t.Errorf("keys without a command: %s", r.stderr)
	}
	if r := mustCLI(t, exitOK, nil, "help", "keys"); !strings.Contains(r.stdout, "rotate") {
		t.Errorf("help keys: %s", r.stdout)
	}
}

// TestKeysEmergencyAWS runs the AWS procedure against the Secrets Manager
// stand-in: the secret as the stack leaves it after its first rotation.
func TestKeysEmergencyAWS(t *testing.T) {
	t.Parallel()
	srv := smfake.New(t)
	ctx := context.Background()
	client := secretsmanager.New(secretsmanager.Options{
		Region: smfake.Region, BaseEndpoint: aws.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSMFAKE", "smfake-secret", ""),
	})
	const secret = "samlflex/sp-keys"
	gen := func() *keys.Pair {
		p, err := keys.Generate(keys.P256, time.Now(), 365*24*time.Hour, "test SP", rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	seed := (&keys.Set{Current: gen(), Next: gen()}).Rotate(gen(), time.Now())
	b, err := keys.MarshalSet(seed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(secret), SecretString: aws.String(string(b))}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SAMLFLEX_KEYS_SECRET_ID": secret}
	storage := []string{"--secrets-manager-endpoint", srv.URL()}
	keysCLI := func(want int, args ...string) result {
		t.Helper()
		return mustCLI(t, want, env, append(append([]string{"keys"}, args...), storage...)...)
	}
	stored := func() *keys.Set {
		t.Helper()
		return samlflextest.StoredKeySet(t, client, secret)
	}

	if got := showKids(t, keysCLI(exitOK, "show").stdout); got["current"] != seed.Current.Kid || got["previous"] != seed.Previous.Kid {
		t.Fatalf("show: %v", got)
	}
	r := keysCLI(exitOK, "rotate", "--now", "--retire-previous")
	now := stored()
	if now.Current.Kid == seed.Current.Kid || now.Current.Kid == seed.Next.Kid || now.Previous != nil || now.ByKid(seed.Next.Kid) != nil {
		t.Errorf("after rotate --now --retire-previous: %s/%s", now.Current.Kid, now.Next.Kid)
	}
	if !strings.Contains(r.stdout, "AWSCURRENT version") || !strings.Contains(r.stdout, "SAMLFLEX_KEYS_CACHE_TTL") {
		t.Errorf("rotate --now output:\n%s", r.stdout)
	}

	r = keysCLI(exitUsage, "revoke", "--kid", now.Current.Kid)
	if !strings.Contains(r.stderr, "keys rotate --now --retire-previous --secret-id "+secret) {
		t.Errorf("revoke current: %s", r.stderr)
	}
	keysCLI(exitOK, "revoke", "--kid", now.Next.Kid)
	if s := stored(); s.Current.Kid != now.Current.Kid || s.Next == nil || s.Next.Kid == now.Next.Kid {
		t.Error("revoking the next key did not replace it")
	}

	// A normal rotation goes through Secrets Manager (and the rotate
	// function, which the stand-in does not run): a pending version.
	if _, err := client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(secret),
		RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:123456789012:function:rotate"), RotateImmediately: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	r = keysCLI(exitOK, "rotate")
	if !strings.Contains(r.stdout, "started rotation") {
		t.Errorf("rotate: %s", r.stdout)
	}
	pending := 0
	for _, v := range srv.Versions(secret) {
		if slices.Contains(v.Stages, smfake.StagePending) {
			pending++
		}
	}
	if pending != 1 {
		t.Errorf("%d pending versions after keys rotate, want 1", pending)
	}
}

// TestServeRetiresPreviousKey: through serve's JWKS URL, the previous key
// of a rotation made an hour ago is published, and that of a rotation made
// 26 hours ago (past 24h + 1h) is not.
func TestServeRetiresPreviousKey(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		ago  time.Duration
		want bool
	}{{time.Hour, true}, {26 * time.Hour, false}} {
		data := t.TempDir()
		then := time.Now().Add(-tt.ago)
		src, err := filekeys.Open(data, func() time.Time { return then }, nil)
		if err != nil {
			t.Fatal(err)
		}
		rotated, err := src.Rotate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		s, _ := startServer(t, nil, "serve", "--addr", "127.0.0.1:0", "--data", data)
		kids := jwksKids(t, s.BaseURL)
		if got := slices.Contains(kids, rotated.Previous.Kid); got != tt.want || !slices.Contains(kids, rotated.Current.Kid) {
			t.Errorf("rotated %s ago: JWKS %v; previous published = %v, want %v", tt.ago, kids, got, tt.want)
		}
		show := mustCLI(t, exitOK, nil, "keys", "show", "--data", data).stdout
		if want := map[bool]string{true: "verifies old sessions until", false: "retired"}[tt.want]; !strings.Contains(show, want) {
			t.Errorf("rotated %s ago: keys show lacks %q:\n%s", tt.ago, want, show)
		}
	}
}
