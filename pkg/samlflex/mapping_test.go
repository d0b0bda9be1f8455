package samlflex

import (
	"slices"
	"strings"
	"testing"
)

func TestParseRoles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     []string
		want   []string
		reject bool
	}{
		{"single", []string{"agent"}, []string{"agent"}, false},
		{"literal quotes", []string{`"agent"`}, []string{"agent"}, false},
		{"comma list", []string{"agent, supervisor, admin"}, []string{"admin", "agent", "supervisor"}, false},
		{"semicolons", []string{"agent;supervisor"}, []string{"agent", "supervisor"}, false},
		{"quoted list", []string{`"agent, supervisor"`}, []string{"agent", "supervisor"}, false},
		{"several values, case, spaces, duplicates", []string{"Agent ", " SUPERVISOR", "agent", `'admin'`}, []string{"admin", "agent", "supervisor"}, false},
		{"smart quotes from a word processor", []string{"“agent”"}, []string{"agent"}, false},
		{"Flex Insights", []string{"agent, wfo.full_access"}, []string{"agent", "wfo.full_access"}, false},
		{"empty pieces", []string{"agent,, ;", ""}, []string{"agent"}, false},
		{"nothing", nil, nil, false},
		{"typo", []string{"agent, supervsor"}, nil, true},
		{"unknown wfo role", []string{"wfo.everything"}, nil, true},
		{"every documented Flex Insights role", []string{"wfo.full_access, wfo.team_leader, wfo.data_analyst, wfo.data_auditor, wfo.quality_manager, wfo.quality_process_manager, wfo.dashboard_viewer"},
			[]string{"wfo.dashboard_viewer", "wfo.data_analyst", "wfo.data_auditor", "wfo.full_access", "wfo.quality_manager", "wfo.quality_process_manager", "wfo.team_leader"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRoles(tc.in)
			if tc.reject {
				wantCode(t, err, CodeUnknownRole)
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("ParseRoles(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestUnknownRoleNamesTheRole(t *testing.T) {
	t.Parallel()
	_, err := ParseRoles([]string{"supervsor"})
	if got := PublicOf(err); !strings.Contains(got, `"supervsor"`) {
		t.Fatalf("public message %q does not name the role", got)
	}
	// Text that is not a plain role name is not echoed into the page.
	_, err = ParseRoles([]string{"<script>alert(1)</script>"})
	if got := PublicOf(err); strings.Contains(got, "<script>") {
		t.Fatalf("public message echoes markup: %q", got)
	}
}

func TestMap(t *testing.T) {
	t.Parallel()
	base := func() *Assertion {
		return &Assertion{NameID: "jane.doe@acme.example", Attributes: map[string][]string{
			"full_name": {"Jane Doe"}, "roles": {"agent, supervisor"}, "email": {"jane@acme.example"},
		}}
	}
	m := (&Account{}).Mapping()
	tests := []struct {
		name string
		edit func(*Assertion)
		m    func(*Mapping)
		want FlexIdentity
		code Code
	}{
		{name: "all attributes", want: FlexIdentity{Identity: "jane.doe@acme.example", FullName: "Jane Doe", Email: "jane@acme.example", Roles: []string{"agent", "supervisor"}}},
		{name: "full name falls back to identity", edit: func(a *Assertion) { delete(a.Attributes, "full_name") },
			want: FlexIdentity{Identity: "jane.doe@acme.example", FullName: "jane.doe@acme.example", Email: "jane@acme.example", Roles: []string{"agent", "supervisor"}}},
		{name: "email falls back to an e-mail NameID", edit: func(a *Assertion) { delete(a.Attributes, "email") },
			want: FlexIdentity{Identity: "jane.doe@acme.example", FullName: "Jane Doe", Email: "jane.doe@acme.example", Roles: []string{"agent", "supervisor"}}},
		{name: "no email when NameID is not one", edit: func(a *Assertion) { delete(a.Attributes, "email"); a.NameID = "jdoe" },
			want: FlexIdentity{Identity: "jdoe", FullName: "Jane Doe", Roles: []string{"agent", "supervisor"}}},
		{name: "default roles", edit: func(a *Assertion) { delete(a.Attributes, "roles") }, m: func(m *Mapping) { m.DefaultRoles = []string{"agent"} },
			want: FlexIdentity{Identity: "jane.doe@acme.example", FullName: "Jane Doe", Email: "jane@acme.example", Roles: []string{"agent"}, RolesDefaulted: true}},
		{name: "custom attribute names", edit: func(a *Assertion) { a.Attributes["FlexRoles"] = []string{"admin"} }, m: func(m *Mapping) { m.RolesAttr = "FlexRoles" },
			want: FlexIdentity{Identity: "jane.doe@acme.example", FullName: "Jane Doe", Email: "jane@acme.example", Roles: []string{"admin"}}},
		{name: "no roles, no default", edit: func(a *Assertion) { a.Attributes["roles"] = []string{" "} }, code: CodeNoRoles},
		{name: "unknown role", edit: func(a *Assertion) { a.Attributes["roles"] = []string{"agent, root"} }, code: CodeUnknownRole},
		{name: "empty NameID", edit: func(a *Assertion) { a.NameID = "" }, code: CodeAttributeMissing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := base()
			if tc.edit != nil {
				tc.edit(a)
			}
			mm := m
			if tc.m != nil {
				tc.m(&mm)
			}
			got, err := Map(a, mm)
			if tc.code != "" {
				wantCode(t, err, tc.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Identity != tc.want.Identity || got.FullName != tc.want.FullName || got.Email != tc.want.Email ||
				!slices.Equal(got.Roles, tc.want.Roles) || got.RolesDefaulted != tc.want.RolesDefaulted {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
			if got.RawAttributes == nil {
				t.Fatal("raw attributes dropped")
			}
		})
	}
}
