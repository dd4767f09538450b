package entity_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
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
	// answer subscribes to subject as user and replies to each request; it returns the
	// asynchronous errors of the user's connection.
	answer := func(user, subject string) <-chan error {
		errs := make(chan error, 4)
		nc, err := x.dial("A", user, errs)
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		if _, err := nc.Subscribe(subject, func(m *nats.Msg) { send(errs, m.Respond([]byte("answer of "+user))) }); err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		return errs
	}

	answer("answers", "q.answers")
	if msg, err := asker.Request("q.answers", []byte("hi"), 5*time.Second); err != nil || string(msg.Data) != "answer of answers" {
		t.Fatalf("user with --allow-pub-response: reply %v, %v", msg, err)
	}
	for _, u := range []string{"added", "edited"} {
		errs := answer(u, "q."+u)
		msg, err := asker.Request("q."+u, []byte("hi"), time.Second)
		if err == nil {
			t.Errorf("user %s answered a request (%q): --allow-pub-response=0 gave it a response permission", u, msg.Data)
			continue
		}
		if !errors.Is(err, nats.ErrTimeout) {
			t.Errorf("user %s: request failed with %v, want a timeout", u, err)
		}
		select {
		case err := <-errs:
			if !strings.Contains(strings.ToLower(err.Error()), "permissions violation for publish") {
				t.Errorf("user %s: %v, want a publish permissions violation", u, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("user %s: the server reported no permissions violation for the reply", u)
		}
	}
}
