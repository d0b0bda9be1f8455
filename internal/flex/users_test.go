package flex

import (
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/samlflex/samlflex/internal/flex/flextest"
	"github.com/samlflex/samlflex/pkg/samlflex"
)

func TestFindUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, flextest.Options{}, nil)
	ctx := t.Context()

	_, found, err := e.c.FindUser(ctx, goodCreds, flextest.InstanceSID, "alice@example.com")
	if err != nil || found {
		t.Fatalf("before provisioning: found=%v err=%v", found, err)
	}
	created, err := e.c.ProvisionUser(ctx, goodCreds, flextest.InstanceSID, alice())
	if err != nil {
		t.Fatal(err)
	}
	u, found, err := e.c.FindUser(ctx, goodCreds, flextest.InstanceSID, "alice@example.com")
	if err != nil || !found {
		t.Fatalf("after provisioning: found=%v err=%v", found, err)
	}
	want := User{
		FlexUserSID: created.FlexUserSID, AccountSID: flextest.AccountSID, InstanceSID: flextest.InstanceSID,
		TeamSID: flextest.TeamSID, WorkerSID: created.WorkerSID, WorkspaceSID: flextest.WorkspaceSID,
		Username: "alice@example.com", FullName: "Alice Example", Email: "alice@example.com",
		Roles: []string{"agent", "supervisor"}, Version: 1, Created: e.clock.Now(), Updated: e.clock.Now(),
	}
	if !reflect.DeepEqual(u, want) {
		t.Errorf("FindUser = %+v\nwant       %+v", u, want)
	}
	if !reflect.DeepEqual(created, want) {
		t.Errorf("ProvisionUser = %+v\nwant            %+v", created, want)
	}
	gets := e.srv.RequestsTo(http.MethodGet, "/Users")
	if len(gets) != 2 || gets[1].Query.Get("Username") != "alice@example.com" || len(gets[1].Body) != 0 {
		t.Errorf("lookups = %+v", gets)
	}

	_, _, err = e.c.FindUser(ctx, goodCreds, flextest.InstanceSID, "")
	wantCode(t, err, samlflex.CodeFlexRejected)
}

func TestIdentityValidate(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", maxFieldChars) // 256 characters, 512 bytes
	tests := []struct {
		name    string
		id      Identity
		wantErr string // field named in the error, "" for valid
	}{
		{"valid", alice(), ""},
		{"256 characters of two bytes each", Identity{Identity: long, FullName: long, Email: long, Roles: []string{"agent"}}, ""},
		{"257 characters", Identity{Identity: long + "x", FullName: "A", Email: "a@b", Roles: []string{"agent"}}, "username"},
		{"no identity", Identity{FullName: "A", Email: "a@b", Roles: []string{"agent"}}, "username"},
		{"no full name", Identity{Identity: "a", Email: "a@b", Roles: []string{"agent"}}, "full_name"},
		{"no email", Identity{Identity: "a", FullName: "A", Roles: []string{"agent"}}, "email"},
		{"no roles", Identity{Identity: "a", FullName: "A", Email: "a@b"}, "roles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.id.validate("test")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("validate: %v", err)
				}
				return
			}
			wantCode(t, err, samlflex.CodeFlexRejected)
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not name %s", err, tt.wantErr)
			}
		})
	}
}

func TestIdentityFrom(t *testing.T) {
	t.Parallel()
	fi := samlflex.FlexIdentity{Identity: "a@x.test", FullName: "A", Email: "a@x.test", Roles: []string{"agent"},
		RawAttributes: map[string][]string{"x": {"y"}}}
	id := IdentityFrom(fi)
	if !reflect.DeepEqual(id, Identity{Identity: "a@x.test", FullName: "A", Email: "a@x.test", Roles: []string{"agent"}}) {
		t.Errorf("IdentityFrom = %+v", id)
	}
	id.Roles[0] = "admin"
	if fi.Roles[0] != "agent" {
		t.Error("IdentityFrom shares the roles slice")
	}
}

// newStaticServer answers every request with status and body, on
// 127.0.0.1, for answers the stand-in never gives.
func newStaticServer(t *testing.T, status int, body string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}
