package entity_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// TestAllowPubResponseZeroGivesNoResponsePermission: --allow-pub-response=0, nsc's default, is
// read as not given on add user, edit user and edit account, as nsc reads it. A user limited to
// publishing on none.x then cannot answer a request on a real nats-server (a resp of
// {"max":0} would have let it send the server's default of one response), while
// --allow-pub-response lets it.
func TestAllowPubResponseZeroGivesNoResponsePermission(t *testing.T) {
	t.Parallel()
	x := newEnforced(t)
	x.e.MustRun("add", "account", "A")
	x.e.MustRun("add", "user", "asker", "-a", "A")
	x.e.MustRun("add", "user", "added", "-a", "A", "--allow-pub", "none.x", "--allow-pub-response=0")
	x.e.MustRun("add", "user", "edited", "-a", "A", "--allow-pub", "none.x")
	x.e.MustRun("edit", "user", "edited", "-a", "A", "--allow-pub", "none.y", "--allow-pub-response=0")
	x.e.MustRun("add", "user", "answers", "-a", "A", "--allow-pub", "none.x", "--allow-pub-response")
	x.e.MustRun("add", "account", "B")
	x.e.MustRun("edit", "account", "B", "--allow-pub", "none.x", "--allow-pub-response=0")
	x.push("A")

	for _, u := range []string{"added", "edited"} {
		uc, _, err := x.s.User("A", u)
		if err != nil {
			t.Fatal(err)
		}
		if uc.Resp != nil {
			t.Errorf("user %s: resp %+v, want none", u, *uc.Resp)
		}
	}
	if dp := x.account("B").DefaultPermissions; dp.Resp != nil || !dp.Pub.Allow.Contains("none.x") {
		t.Errorf("account B default permissions: %+v", dp)
	}

	asker, err := x.dial("A", "asker", nil)
	if err != nil {
		t.Fatal(err)
	}
	x.mustAnswer(asker, "A", "answers", "user with --allow-pub-response")
	for _, u := range []string{"added", "edited"} {
		x.cannotAnswer(asker, "A", u, "--allow-pub-response=0 gave it a response permission")
	}
}

// TestMaxResponsesThenAllowPubResponseZeroGivesAResponsePermission: nsc sets the response
// permission whenever its deprecated --max-responses is given, whichever of it and
// --allow-pub-response=0 comes last, with the count of the last one: `--max-responses 5
// --allow-pub-response=0` gives resp {"max":0} on add user, edit user, edit signing-key, add
// account and edit account, and the other order {"max":5}. On a real nats-server a user limited
// to publishing on none.x then answers a request ({"max":0} is the server's default of one
// response), as the user nsc makes does.
func TestMaxResponsesThenAllowPubResponseZeroGivesAResponsePermission(t *testing.T) {
	t.Parallel()
	x := newEnforced(t)
	last0 := []string{"--max-responses", "5", "--allow-pub-response=0"}
	x.e.MustRun("add", "account", "A")
	x.e.MustRun("add", "user", "asker", "-a", "A")
	x.e.MustRun(append([]string{"add", "user", "added", "-a", "A", "--allow-pub", "none.x"}, last0...)...)
	x.e.MustRun("add", "user", "reversed", "-a", "A", "--allow-pub", "none.x", "--allow-pub-response=0", "--max-responses", "5")
	x.e.MustRun("add", "user", "edited", "-a", "A", "--allow-pub", "none.x")
	x.e.MustRun(append([]string{"edit", "user", "edited", "-a", "A"}, last0...)...)
	x.e.MustRun(append([]string{"edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "svc", "--allow-pub", "none.x"}, last0...)...)
	x.e.MustRun("add", "user", "scoped", "-a", "A", "-K", "svc")
	x.e.MustRun(append([]string{"add", "account", "B"}, last0...)...)
	x.e.MustRun("add", "account", "C")
	x.e.MustRun(append([]string{"edit", "account", "C"}, last0...)...)
	x.push("A")

	want := func(what string, r *jwt.ResponsePermission, n int) {
		t.Helper()
		if r == nil || r.MaxMsgs != n {
			t.Errorf("%s: response permission %+v, want max %d", what, r, n)
		}
	}
	for u, n := range map[string]int{"added": 0, "reversed": 5, "edited": 0} {
		uc, _, err := x.s.User("A", u)
		if err != nil {
			t.Fatal(err)
		}
		want("user "+u, uc.Resp, n)
	}
	a := x.account("A")
	if us, ok := a.SigningKeys[ops.RoleKey(a, "svc")].(*jwt.UserScope); ok {
		want("scope svc", us.Template.Resp, 0)
	} else {
		t.Errorf("no user scope with role svc: %+v", a.SigningKeys)
	}
	want("account B default permissions", x.account("B").DefaultPermissions.Resp, 0)
	want("account C default permissions", x.account("C").DefaultPermissions.Resp, 0)

	asker, err := x.dial("A", "asker", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"added", "reversed", "edited", "scoped"} {
		x.mustAnswer(asker, "A", u, "--max-responses and --allow-pub-response=0")
	}
}

// TestAllowPubResponseZeroAloneResignsAndKeepsTheResponsePermission: `edit user U
// --allow-pub-response=0` alone (or `--response-ttl ""`) re-signs the user and exits 0, as nsc
// does, and leaves the response permission it has as it is, as nsc does: the user still answers
// requests on a real nats-server. --rm-response-perms is what removes it: the user then cannot
// answer.
func TestAllowPubResponseZeroAloneResignsAndKeepsTheResponsePermission(t *testing.T) {
	t.Parallel()
	x := newEnforced(t)
	x.e.MustRun("add", "account", "A")
	x.e.MustRun("add", "user", "asker", "-a", "A")
	x.e.MustRun("add", "user", "answers", "-a", "A", "--allow-pub", "none.x", "--allow-pub-response=2", "--response-ttl", "1m")
	x.push("A")
	for _, args := range [][]string{
		{"edit", "user", "answers", "-a", "A", "--allow-pub-response=0"},
		{"edit", "user", "answers", "-a", "A", "--response-ttl", ""},
	} {
		if out := x.e.MustRunStatus(args...); !strings.Contains(out, `edited user "answers"`) {
			t.Errorf("signet %s: %s", strings.Join(args, " "), out)
		}
	}
	uc, _, err := x.s.User("A", "answers")
	if err != nil {
		t.Fatal(err)
	}
	if uc.Resp == nil || uc.Resp.MaxMsgs != 2 || uc.Resp.Expires != time.Minute {
		t.Fatalf("response permission after --allow-pub-response=0: %+v, want max 2, ttl 1m", uc.Resp)
	}

	asker, err := x.dial("A", "asker", nil)
	if err != nil {
		t.Fatal(err)
	}
	x.mustAnswer(asker, "A", "answers", "after --allow-pub-response=0")

	x.e.MustRun("edit", "user", "answers", "-a", "A", "--rm-response-perms")
	x.cannotAnswer(asker, "A", "answers", "--rm-response-perms left it a response permission")
}

// TestResponseFlagAloneIsAnEdit: --allow-pub-response=0 or --response-ttl "" alone is an edit
// that re-signs and exits 0 on edit account, edit signing-key and edit user (a scoped user too),
// as in nsc, and leaves the response permissions as they were; an edit with no flag at all is
// still refused.
func TestResponseFlagAloneIsAnEdit(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O")
	e.MustRun("add", "account", "A", "--allow-pub-response=3")
	e.MustRun("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "svc", "--allow-pub-response=2")
	e.MustRun("add", "user", "s", "-a", "A", "-K", "svc")
	e.MustRun("add", "user", "u", "-a", "A", "--allow-pub-response=4")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"edit", "account", "A", "--allow-pub-response=0"}, `edited account "A"`},
		{[]string{"edit", "account", "A", "--response-ttl", ""}, `edited account "A"`},
		{[]string{"edit", "signing-key", "-a", "A", "--sk", "svc", "--allow-pub-response=0"}, "edited signing key"},
		{[]string{"edit", "user", "s", "-a", "A", "--allow-pub-response=0"}, `edited user "s"`},
		{[]string{"edit", "user", "u", "-a", "A", "--allow-pub-response=0"}, `edited user "u"`},
	} {
		if out := e.MustRunStatus(tc.args...); !strings.Contains(out, tc.want) {
			t.Errorf("signet %s: %q lacks %q", strings.Join(tc.args, " "), out, tc.want)
		}
	}
	s, err := store.Stores{Dir: e.StoresDir()}.Open("O")
	if err != nil {
		t.Fatal(err)
	}
	ac, _, err := s.Account("A")
	if err != nil {
		t.Fatal(err)
	}
	scope, _ := ac.SigningKeys.GetScope(ops.RoleKey(ac, "svc"))
	u, _, err := s.User("A", "u")
	if err != nil {
		t.Fatal(err)
	}
	if r := ac.DefaultPermissions.Resp; r == nil || r.MaxMsgs != 3 {
		t.Errorf("account default response permission: %+v, want max 3", r)
	}
	if us, ok := scope.(*jwt.UserScope); !ok || us.Template.Resp == nil || us.Template.Resp.MaxMsgs != 2 {
		t.Errorf("scope: %+v, want a response permission of max 2", scope)
	}
	if u.Resp == nil || u.Resp.MaxMsgs != 4 {
		t.Errorf("user u response permission: %+v, want max 4", u.Resp)
	}
	for _, args := range [][]string{{"edit", "user", "u", "-a", "A"}, {"edit", "account", "A"}} {
		if msg := e.MustFail(args...); !strings.Contains(msg, "nothing to edit") {
			t.Errorf("signet %s: %s, want nothing to edit", strings.Join(args, " "), msg)
		}
	}
}

// answer subscribes to subject as user and replies to each request; it returns the
// asynchronous errors of the user's connection.
func (x *enforced) answer(account, user, subject string) <-chan error {
	x.t.Helper()
	errs := make(chan error, 4)
	nc, err := x.dial(account, user, errs)
	if err != nil {
		x.t.Fatalf("%s: %v", user, err)
	}
	if _, err := nc.Subscribe(subject, func(m *nats.Msg) { send(errs, m.Respond([]byte("answer of "+user))) }); err != nil {
		x.t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		x.t.Fatal(err)
	}
	return errs
}

// mustAnswer checks that user, on a new connection, answers asker's request; when says when.
func (x *enforced) mustAnswer(asker *nats.Conn, account, user, when string) {
	x.t.Helper()
	subject := "q.answered." + user
	x.answer(account, user, subject)
	if msg, err := asker.Request(subject, []byte("hi"), 5*time.Second); err != nil || string(msg.Data) != "answer of "+user {
		x.t.Fatalf("%s: user %s does not answer a request: reply %v, %v", when, user, msg, err)
	}
}

// cannotAnswer checks that user, on a new connection, does not answer asker's request: the
// request times out and the server reports the reply as a publish permissions violation. why
// says what an answer would mean.
func (x *enforced) cannotAnswer(asker *nats.Conn, account, user, why string) {
	x.t.Helper()
	subject := "q.refused." + user
	errs := x.answer(account, user, subject)
	msg, err := asker.Request(subject, []byte("hi"), time.Second)
	if err == nil {
		x.t.Errorf("user %s answered a request (%q): %s", user, msg.Data, why)
		return
	}
	if !errors.Is(err, nats.ErrTimeout) {
		x.t.Errorf("user %s: request failed with %v, want a timeout", user, err)
	}
	select {
	case err := <-errs:
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation for publish") {
			x.t.Errorf("user %s: %v, want a publish permissions violation", user, err)
		}
	case <-time.After(5 * time.Second):
		x.t.Errorf("user %s: the server reported no permissions violation for the reply", user)
	}
}
