package walkthrough_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDocsRevocationPushCutsOffRevokedUsersAndActivations replays "nsc Revocation"
// (docs.nats.io, using-nats/nats-tools/nsc/revocation) against a full-resolver nats-server:
//   - `revocations add-user --at` a time before the user's JWT was issued leaves it alone;
//   - `revocations add-user` (now) and `push -a A`: the server closes the user's open
//     connection at once and refuses new ones; a JWT issued after the revocation (the page's
//     example: re-issued without access to "billing") connects again and is denied billing;
//   - `revocations add_activation` (the page's spelling) for B on A's private stream and
//     `push -a A`: B's subscription stops receiving while B's public import still delivers.
func TestDocsRevocationPushCutsOffRevokedUsersAndActivations(t *testing.T) {
	t.Parallel()
	p, ns := pushedOperator(t)
	url := ns.ClientURL()
	p.nsc("revocations", "-h")

	// Activations first, with U publishing: A's private stream for B, and a public marker.
	a := p.accountKey("O", "A")
	p.nsc("add", "export", "--subject", "private.abc.*", "--private", "--account", "A")
	p.nsc("add", "export", "--name", "marker", "--subject", "marker", "--account", "A")
	p.nsc("add", "account", "B")
	p.nsc("add", "user", "b")
	b := p.accountKey("O", "B")
	activation := filepath.Join(t.TempDir(), "activation.jwt")
	p.nsc("generate", "activation", "--account", "A", "--target-account", b, "--subject", "private.abc."+b, "-o", activation)
	p.nsc("add", "import", "--account", "B", "--token", activation)
	p.nsc("add", "import", "--account", "B", "--src-account", a, "--remote-subject", "marker")
	p.push(ns, "A", "B")

	bc := dial(t, url, p.creds("O", "B", "b"))
	private := bc.subscribe(t, "private.abc."+b)
	marker := bc.subscribe(t, "marker")
	u := dial(t, url, p.creds("O", "A", "U"))
	u.publish(t, "private.abc."+b, "before")
	receive(t, private, "private.abc."+b, "before")

	out := p.nsc("revocations", "add_activation", "--account", "A", "--subject", "private.abc.*", "--target-account", b)
	if !strings.Contains(p.nsc("revocations", "list_activations", "--account", "A"), b) {
		t.Fatalf("list_activations does not show B after:\n%s", out)
	}
	p.push(ns, "A")
	// One publisher's messages reach one connection in order: the marker arriving with nothing
	// before it on the private subscription proves the private message was not delivered.
	u.publish(t, "private.abc."+b, "after")
	u.publish(t, "marker", "m")
	receive(t, marker, "marker", "m")
	nothingPending(t, private, "B receives A's private stream after its activation was revoked")

	// Users. A revocation before U was issued does not touch U.
	creds := p.creds("O", "A", "U")
	issued := p.user("O", "A", "U").IssuedAt
	p.nsc("revocations", "add-user", "--account", "A", "--name", "U", "--at", strconv.FormatInt(issued-60, 10))
	p.push(ns, "A")
	dial(t, url, creds).Close()

	p.nsc("revocations", "add-user", "--account", "A", "--name", "U")
	if !strings.Contains(p.nsc("revocations", "list-users", "--account", "A"), p.user("O", "A", "U").Subject) {
		t.Fatal("list-users does not show U")
	}
	p.push(ns, "A")
	select {
	case <-u.closed:
	case <-time.After(wait):
		t.Fatal("the server kept the revoked user's connection open after the push")
	}
	refused(t, url, creds, "a revoked user")

	// "Revoke the user ... and create a new user JWT without access to billing": a JWT issued
	// after the revocation's second is valid again.
	revokedAt := mustRevocation(t, p, "A", "U")
	poll(t, "the clock does not pass the revocation time", func() bool { return time.Now().Unix() > revokedAt })
	p.nsc("edit", "user", "U", "--account", "A", "--deny-pub", "billing")
	u = dial(t, url, creds)
	u.violation(t, "billing", func() error { return u.Publish("billing", nil) })
	u.publish(t, "marker", "still A's user")
	receive(t, marker, "marker", "still A's user")
}

func mustRevocation(t *testing.T, p *page, account, user string) int64 {
	t.Helper()
	ac, _ := p.account("O", account)
	at, ok := ac.Revocations[p.user("O", account, user).Subject]
	if !ok {
		t.Fatalf("account %s holds no revocation of %s", account, user)
	}
	return at
}
