package signing_test

import (
	"fmt"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/natstest"
)

// restart replaces the server with one that trusts the operator JWT now in the store, and pushes
// every account to it: nats-server cannot reload its trusted operator, so after the operator's
// signing keys change an operator restarts its servers with the new JWT (signet generate config).
func (l *live) restart() {
	l.t.Helper()
	if l.sys != nil {
		l.sys.Close()
		l.sys = nil
	}
	l.srv.Shutdown()
	s := l.store()
	oc, opJWT, err := s.Operator()
	if err != nil {
		l.t.Fatal(err)
	}
	sysJWT, err := s.AccountJWT("SYS")
	if err != nil {
		l.t.Fatal(err)
	}
	l.srv = natstest.StartFull(l.t, natstest.Trust{OperatorJWT: opJWT, SystemAccount: oc.SystemAccount, SystemAccountJWT: sysJWT})
	sys, err := nats.Connect(l.srv.ClientURL(), nats.UserCredentials(l.creds("SYS", "sys")), nats.NoReconnect())
	if err != nil {
		l.t.Fatalf("system user on the restarted server: %v", err)
	}
	l.t.Cleanup(sys.Close)
	l.sys = sys
	names, err := s.Accounts()
	if err != nil {
		l.t.Fatal(err)
	}
	for _, n := range names {
		if err := l.push(nil, s, n); err != nil {
			l.t.Fatal(err)
		}
	}
}

// TestRevocationSurvivesEveryResign: once a user is revoked, no command that re-signs its
// account brings it back. After each such command the revocation is still in the account JWT
// in the store, the real server still refuses the revoked users, and a user that was never
// revoked still connects. A command that rebuilt the claims and forgot the revocations would
// silently let a revoked (say, stolen) credential in again.
func TestRevocationSurvivesEveryResign(t *testing.T) {
	t.Parallel()
	var opSK string
	l := newLive(t, "O", func(e *clitest.Env) {
		opSK, _ = keyStored(t, e.MustRun("generate", "nkey", "--operator", "--store"))
		e.MustRun("edit", "operator", "--sk", opSK)
	})
	e := l.e
	e.MustRun("add", "account", "A")
	for _, u := range []string{"U", "V", "W"} {
		e.MustRun("add", "user", u, "-a", "A")
	}
	l.mustDial("A", "U").Close()

	e.MustRun("revocations", "add-user", "-a", "A", "-n", "U")
	e.MustRun("revocations", "add-user", "-a", "A", "-n", "W")
	uRevokedAt := account(t, e, "A").Revocations[user(t, e, "A", "U").Subject]
	if uRevokedAt == 0 {
		t.Fatal("revocations add-user did not revoke U")
	}

	revoked := []string{"U", "W"}       // users in the store whose current JWT must stay revoked
	var deleted []*jwt.UserClaims       // users deleted from the store (their creds files remain)
	deletedCreds := map[string]string{} // public key -> creds file
	check := func(step string) {
		t.Helper()
		ac := account(t, e, "A")
		if got := ac.Revocations[user(t, e, "A", "U").Subject]; got < uRevokedAt {
			t.Fatalf("after %s: U's revocation is at %d in the stored account, want at least %d", step, got, uRevokedAt)
		}
		for _, name := range revoked {
			uc := user(t, e, "A", name)
			if _, ok := ac.Revocations[uc.Subject]; !ok || !ac.IsClaimRevoked(uc) {
				t.Fatalf("after %s: user %s is no longer revoked in the stored account (revocations %v)", step, name, ac.Revocations)
			}
			l.mustBeRefused(l.creds("A", name), fmt.Sprintf("after %s: revoked user %s", step, name))
		}
		for _, uc := range deleted {
			if !ac.IsClaimRevoked(uc) {
				t.Fatalf("after %s: deleted user %s is no longer revoked in the stored account", step, uc.Name)
			}
			l.mustBeRefused(deletedCreds[uc.Subject], fmt.Sprintf("after %s: deleted user %s", step, uc.Name))
		}
		l.mustDial("A", "V").Close()
	}
	check("revocations add-user")

	// Limits.
	e.MustRun("edit", "account", "A", "--conns", "50")
	if got := account(t, e, "A").Limits.Conn; got != 50 {
		t.Fatalf("edit account --conns 50: conns %d", got)
	}
	check("edit account --conns")

	// Signing keys.
	sk := quoted(t, e.MustRunStatus("edit", "account", "A", "--sk", "generate"), "added signing key")
	check("edit account --sk generate")

	// Exports and imports.
	e.MustRun("add", "export", "-a", "A", "-s", "svc.>", "--service")
	check("add export")
	e.MustRun("add", "account", "B")
	e.MustRun("add", "export", "-a", "B", "-s", "feed.>")
	e.MustRun("add", "import", "-a", "A", "--src-account", "B", "--remote-subject", "feed.>")
	if len(account(t, e, "A").Imports) != 1 {
		t.Fatal("add import did not add the import")
	}
	check("add import")
	e.MustRun("edit", "export", "-a", "A", "-s", "svc.>", "--description", "a service")
	check("edit export")
	e.MustRun("add", "mapping", "-a", "A", "-f", "m.a", "-t", "m.b")
	check("add mapping")
	e.MustRun("add", "export", "-a", "A", "-s", "priv.>", "--private")
	e.MustRun("revocations", "add-activation", "-a", "A", "-s", "priv.>", "-t", "B")
	check("revocations add-activation")
	e.MustRun("delete", "import", "-a", "A", "-s", "feed.>")
	check("delete import")

	// A scoped signing key, and a revoked user it signed (rotated below).
	e.MustRun("edit", "signing-key", "-a", "A", "--sk", sk, "--role", "svc", "--allow-sub", "q.>")
	check("edit signing-key")
	e.MustRun("add", "user", "R", "-a", "A", "-K", "svc")
	e.MustRun("revocations", "add-user", "-a", "A", "-n", "R")
	revoked = append(revoked, "R")
	check("revocations add-user R")

	// Removing one revocation keeps the others.
	e.MustRun("revocations", "delete-user", "-a", "A", "-n", "W")
	revoked = []string{"U", "R"}
	l.mustDial("A", "W").Close()
	check("revocations delete-user W")

	// delete user revokes another user.
	e.MustRun("add", "user", "X", "-a", "A")
	x := user(t, e, "A", "X")
	deletedCreds[x.Subject] = writeTemp(t, readFile(t, l.creds("A", "X")))
	e.MustRun("delete", "user", "X", "-a", "A")
	deleted = append(deleted, x)
	check("delete user")

	// Rotating the account signing key re-issues R (its revocation moves up to the new JWT) and
	// must keep U's, whose JWT the rotation does not touch.
	out := e.MustRunStatus("rotate", "signing-key", "-a", "A", "--old", "svc")
	if ac := account(t, e, "A"); ac.SigningKeys.Contains(sk) || user(t, e, "A", "R").Issuer == sk {
		t.Fatalf("rotate signing-key did not rotate %s:\n%s", sk, out)
	}
	check("rotate signing-key -a A")

	// Re-signing with an operator signing key, then rotating that key.
	e.MustRun("edit", "account", "A", "-K", opSK)
	if iss := account(t, e, "A").Issuer; iss != opSK {
		t.Fatalf("edit account -K: issuer %s, want %s", iss, opSK)
	}
	check("edit account -K")
	// The running server trusts the old operator JWT and would refuse accounts signed by the
	// new key: stop pushing to it, and restart it with the rotated operator JWT.
	l.sys.Close()
	l.sys = nil
	e.MustRun("rotate", "signing-key", "--operator", "--old", opSK)
	if iss := account(t, e, "A").Issuer; iss == opSK {
		t.Fatal("rotate signing-key --operator did not re-issue account A")
	}
	l.restart()
	check("rotate signing-key --operator")
}
