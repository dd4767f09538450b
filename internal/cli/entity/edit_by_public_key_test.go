package entity_test

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestEditByPublicKeyTakesEffect: `edit user <user key> -a <account key>` and
// `edit account <account key>` change the entities the keys name (not new ones named after the
// keys), and the nats-server the account is pushed to enforces the edits: the denied publish is
// refused and the second connection of a one-connection account is refused.
func TestEditByPublicKeyTakesEffect(t *testing.T) {
	t.Parallel()
	x := newEnforced(t)
	x.e.MustRun("add", "account", "B")
	x.e.MustRun("add", "user", "u", "-a", "B")
	apub := x.account("B").Subject
	uc, _, err := x.s.User("B", "u")
	if err != nil {
		t.Fatal(err)
	}

	x.e.MustRun("edit", "user", uc.Subject, "-a", apub, "--deny-pub", "secret.>")
	x.e.MustRun("edit", "account", apub, "--conns", "1")
	x.e.MustRun("push", "-a", apub, "-u", x.srv.ClientURL())

	errs := make(chan error, 16)
	nc, err := x.dial("B", "u", errs)
	if err != nil {
		t.Fatalf("user u cannot connect: %v", err)
	}
	if err := nc.Publish("secret.plans", nil); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	deadline := time.After(5 * time.Second)
	for denied := false; !denied; {
		select {
		case err := <-errs:
			denied = strings.Contains(err.Error(), "Permissions Violation") && strings.Contains(err.Error(), "secret.plans")
		case <-deadline:
			t.Fatal("publish on secret.plans was not denied after `edit user <key> --deny-pub secret.>`")
		}
	}
	if second, err := x.dial("B", "u", nil); err == nil {
		second.Close()
		t.Fatal("a second connection was accepted after `edit account <key> --conns 1`")
	} else if !strings.Contains(strings.ToLower(err.Error()), "maximum account active connections exceeded") {
		t.Fatalf("second connection refused with %v, want the connection limit error", err)
	}

	// The store holds the edits on the entities the keys name, and nothing new.
	got, _, err := x.s.User("B", "u")
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != uc.Subject || !slices.Contains(got.Permissions.Pub.Deny, "secret.>") {
		t.Fatalf("user u after the edit by key: subject %s deny pub %v", got.Subject, got.Permissions.Pub.Deny)
	}
	if names, err := x.s.UserNames("B"); err != nil || !slices.Equal(names, []string{"u"}) {
		t.Fatalf("users of B after the edit by key: %v %v", names, err)
	}
	if names, err := x.s.Accounts(); err != nil || len(names) != 2 {
		t.Fatalf("accounts after the edit by key: %v %v", names, err)
	}
	if c := x.account("B").Limits.Conn; c != 1 {
		t.Fatalf("account B allows %d connections after `edit account <key> --conns 1`", c)
	}
}
