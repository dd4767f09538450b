package authz

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
)

func scopeWith(t *testing.T, o UserPermOptions) *jwt.UserScope {
	t.Helper()
	s := jwt.NewUserScope()
	s.Key = "ASCOPEDKEY"
	if _, err := o.Apply(&s.Template); err != nil {
		t.Fatal(err)
	}
	return s
}

func userWith(name string, tags ...string) *jwt.UserClaims {
	uc := jwt.NewUserClaims("UUSER")
	uc.Name = name
	uc.IssuerAccount = "AACCOUNT"
	uc.Tags.Add(tags...)
	uc.SetScoped(true)
	return uc
}

func accountWith(name string, tags ...string) *jwt.AccountClaims {
	ac := jwt.NewAccountClaims("AACCOUNT")
	ac.Name = name
	ac.Tags.Add(tags...)
	return ac
}

func TestExpandSeedExample(t *testing.T) {
	t.Parallel()
	scope := scopeWith(t, UserPermOptions{AllowSub: []string{"{{account-name()}}.{{tag(team)}}.{{name()}}.>"}, AllowPubResponse: 1, AllowPubResponseSet: true})
	acc := accountWith("sales")
	for user, want := range map[*jwt.UserClaims]string{
		userWith("pam", "team:support"): "sales.support.pam.>",
		userWith("joe", "team:leads"):   "sales.leads.joe.>",
	} {
		lim, warn, err := ExpandScopedUser(scope, user, acc)
		if err != nil || len(warn) != 1 || !strings.Contains(warn[0], "only lets this user publish replies") {
			t.Fatalf("%s: %v %q", user.Name, err, warn)
		}
		if !slices.Equal(lim.Sub.Allow, []string{want}) || lim.Resp == nil || lim.Resp.MaxMsgs != 1 {
			t.Errorf("%s: got %+v, want sub %q", user.Name, lim.Permissions, want)
		}
	}
	if got := scope.Template.Sub.Allow[0]; got != "{{account-name()}}.{{tag(team)}}.{{name()}}.>" {
		t.Errorf("scope template modified: %q", got)
	}
}

func TestExpandRules(t *testing.T) {
	t.Parallel()
	acc := accountWith("sales", "dept:eng", "dept:ops")
	user := userWith("mu", "team:a", "team:b", "region:eu", "region:us")
	scope := scopeWith(t, UserPermOptions{
		AllowSub: []string{"m.{{tag(team)}}.{{tag(region)}}", "plain.sub", "d.{{account-tag(dept)}}"},
		AllowPub: []string{"p.{{account-subject()}}.{{subject()}}", "x.{{tag(missing)}}"},
		DenySub:  []string{"m.{{tag(team)}}.secret"},
	})
	lim, warn, err := ExpandScopedUser(scope, user, acc)
	if err != nil {
		t.Fatal(err)
	}
	wantSub := []string{"d.eng", "d.ops", "m.a.eu", "m.a.us", "m.b.eu", "m.b.us", "plain.sub"} // Apply sorts the template
	if !slices.Equal(lim.Sub.Allow, wantSub) {
		t.Errorf("sub allow = %q, want %q", lim.Sub.Allow, wantSub)
	}
	if !slices.Equal(lim.Pub.Allow, []string{"p.AACCOUNT.UUSER"}) || !slices.Equal(lim.Sub.Deny, []string{"m.a.secret", "m.b.secret"}) {
		t.Errorf("pub allow = %q, sub deny = %q", lim.Pub.Allow, lim.Sub.Deny)
	}
	if len(warn) != 1 || !strings.Contains(warn[0], "x.{{tag(missing)}}") {
		t.Errorf("warnings = %q", warn)
	}

	// Every allow entry dropped: the list becomes deny ">".
	scope = scopeWith(t, UserPermOptions{AllowPub: []string{"{{tag(missing)}}.x"}, AllowSub: []string{"n.{{name()}}"}})
	lim, warn, err = ExpandScopedUser(scope, userWith("sp ace"), acc)
	if err != nil {
		t.Fatal(err)
	}
	if len(lim.Pub.Allow) != 0 || !slices.Equal(lim.Pub.Deny, []string{">"}) || len(lim.Sub.Allow) != 0 || !slices.Equal(lim.Sub.Deny, []string{">"}) {
		t.Errorf("got %+v", lim.Permissions)
	}
	if len(warn) != 4 {
		t.Errorf("warnings = %q", warn)
	}

	// Refusals.
	for _, o := range []UserPermOptions{
		{DenyPub: []string{"{{tag(missing)}}"}},
		{DenySub: []string{"n.{{name()}}"}}, // name has a space: invalid deny subject
		{AllowSub: []string{"{{nope()}}.x"}},
		{AllowSub: []string{"{{name}}.x"}},
	} {
		_, _, err := ExpandScopedUser(scopeWith(t, o), userWith("sp ace"), acc)
		if err == nil || !strings.Contains(err.Error(), "refuses") {
			t.Errorf("%+v: err = %v", o, err)
		}
	}
	// Upper-case TAG( is matched but its key never is (as in the server).
	lim, _, err = ExpandScopedUser(scopeWith(t, UserPermOptions{AllowSub: []string{"{{TAG(team)}}", "ok"}}), user, acc)
	if err != nil || !slices.Equal(lim.Sub.Allow, []string{"ok"}) {
		t.Errorf("TAG(: %q %v", lim.Sub.Allow, err)
	}
	if _, _, err := ExpandScopedUser(nil, user, acc); err == nil {
		t.Error("nil scope accepted")
	}
}

func TestExpandLimit(t *testing.T) {
	t.Parallel()
	var tags []string
	for i := range 70 {
		tags = append(tags, fmt.Sprintf("a:%d", i), fmt.Sprintf("b:%d", i))
	}
	scope := scopeWith(t, UserPermOptions{AllowSub: []string{"{{tag(a)}}.{{tag(b)}}"}})
	_, _, err := ExpandScopedUser(scope, userWith("u", tags...), accountWith("A"))
	if !errors.Is(err, ErrTemplateExpansionLimit) {
		t.Fatalf("err = %v, want the expansion limit", err)
	}
	scope = scopeWith(t, UserPermOptions{AllowSub: []string{"{{tag(a)}}.{{tag(a)}}"}})
	lim, _, err := ExpandScopedUser(scope, userWith("u", tags[:40]...), accountWith("A"))
	if err != nil || len(lim.Sub.Allow) != 400 {
		t.Fatalf("20x20: %d %v", len(lim.Sub.Allow), err)
	}
}

func TestLintTemplate(t *testing.T) {
	t.Parallel()
	clean := []string{"plain.subject", "{{name()}}.>", "{{ account-name() }}.{{tag(team)}}", "{{Name()}}", "{{account-tag(dept)}}.{{subject()}}.{{account-subject()}}"}
	for _, s := range clean {
		if w := LintTemplate(s); len(w) != 0 {
			t.Errorf("LintTemplate(%q) = %q", s, w)
		}
	}
	bad := map[string]string{
		"{{nmae()}}.x":       "unknown template function",
		"{{name}}":           "unknown template function",
		"{{tag()}}":          "needs a tag key",
		"{{TAG(team)}}":      "lower case",
		"{{name()}.x":        "malformed",
		"x.{{name()}}.}}":    "malformed",
		"{{name()}}}":        "stray brace",
		"{{tag(a:b)}}":       "never match",
		"a.{{ tag(team) }}}": "stray brace",
	}
	for s, want := range bad {
		w := LintTemplate(s)
		if len(w) == 0 || !strings.Contains(strings.Join(w, "\n"), want) {
			t.Errorf("LintTemplate(%q) = %q, want %q", s, w, want)
		}
	}
}
