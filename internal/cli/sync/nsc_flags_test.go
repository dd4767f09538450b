package sync_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/store"
)

func TestPushAndPullTakeNscFlagsAgainstAFullResolver(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.Vars["SIGNET_NO_PUSH"] = "1"
	e.MustRun("init", "-n", "O")
	e.MustRun("add", "account", "B")
	s, err := (store.Stores{Dir: e.StoresDir()}).Open("O")
	if err != nil {
		t.Fatal(err)
	}
	oc, opTok, _ := s.Operator()
	_, sysTok, _ := s.Account("SYS")
	sv := natstest.StartFull(t, natstest.Trust{OperatorJWT: opTok, SystemAccount: oc.SystemAccount, SystemAccountJWT: sysTok})
	url := sv.ClientURL()

	// nsc's --timeout is whole seconds; --system-account names the servers' system account;
	// --force is accepted.
	e.MustRun("push", "-A", "-u", url, "--timeout", "3", "--system-account", "SYS", "-F")
	sameJWTs(t, "server after push -A", storeJWTs(t, s), serverJWTs(t, sv))
	if msg := e.MustFail("push", "-A", "-u", url, "--system-account", "NOPE"); !strings.Contains(msg, "--system-account") {
		t.Errorf("push --system-account NOPE: %s", msg)
	}
	// -D is --diff, and compares the whole store without -a/-A, as in nsc.
	if out := e.MustRun("push", "-D", "-u", url); !strings.Contains(out, "Push Diff") {
		t.Errorf("push -D:\n%s", out)
	}
	// -R removes one account from the servers and pushes nothing else.
	b, _, _ := s.Account("B")
	e.MustRun("push", "-R", "B", "-u", url)
	if _, ok := serverJWTs(t, sv)[b.Subject]; ok {
		t.Error("push -R B left B on the server")
	}
	if msg := e.MustFail("push", "-R", "B", "--prune", "-u", url); !strings.Contains(msg, "exclusive") {
		t.Errorf("push -R --prune: %s", msg)
	}
	// pull -F is --overwrite-newer.
	if out := e.MustRunStatus("pull", "-A", "-F", "-u", url, "--timeout", "2"); !strings.Contains(out, "account \"O\"") {
		t.Errorf("pull -A -F:\n%s", out)
	}
	// --system-user connects with a system account user's creds.
	e.MustRun("push", "-a", "B", "-u", url, "--system-user", "sys")
	e.MustRun("pull", "-a", "B", "-u", url, "--system-user", "sys", "--system-account", "SYS")
	// The TLS flags reach the connection: this server speaks no TLS.
	if msg := e.MustFail("push", "-A", "-u", url, "--tls-first", "--timeout", "1"); msg == "" {
		t.Error("push --tls-first to a plain server succeeded")
	}
	missing := filepath.Join(e.Home, "no-ca.pem")
	if msg := e.MustFail("push", "-A", "-u", url, "--ca-cert", missing); !strings.Contains(msg, "--ca-cert") {
		t.Errorf("push --ca-cert <missing>: %s", msg)
	}
	if msg := e.MustFail("push", "-A", "-u", url, "--tls-curves", "P999"); !strings.Contains(msg, "--tls-curves") {
		t.Errorf("push --tls-curves P999: %s", msg)
	}
	if msg := e.MustFail("pull", "-A", "-u", url, "--client-key", missing); !strings.Contains(msg, "--client-cert") {
		t.Errorf("pull --client-key without --client-cert: %s", msg)
	}
	if msg := e.MustFail("pull", "-A", "-u", url, "--ca-cert", missing, "--tls-first"); !strings.Contains(msg, "--ca-cert") {
		t.Errorf("pull --ca-cert <missing>: %s", msg)
	}
	if msg := e.MustFail("pull", "-A", "-u", url, "--client-cert", missing); !strings.Contains(msg, "--client-key") {
		t.Errorf("pull --client-cert without --client-key: %s", msg)
	}
}

func TestAddOperatorForceReplacesAnImportedOperatorWithAnotherKey(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.Vars["SIGNET_NO_PUSH"] = "1"
	file := func(name string) (string, string) {
		kp, _ := nkeys.CreateOperator()
		pub, _ := kp.PublicKey()
		oc := jwt.NewOperatorClaims(pub)
		oc.Name = "O"
		tok, err := oc.Encode(kp)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(e.Home, name)
		if err := os.WriteFile(p, []byte(tok), 0o644); err != nil {
			t.Fatal(err)
		}
		return p, pub
	}
	first, _ := file("first.jwt")
	second, pub2 := file("second.jwt")
	e.MustRun("add", "operator", "-u", first)
	if msg := e.MustFail("add", "operator", "-u", second); !strings.Contains(msg, "--force") {
		t.Errorf("re-import with another key: %s", msg)
	}
	r := e.Run("add", "operator", "-u", second, "--force")
	if r.Error != nil || !strings.Contains(r.Err, "[WARN]") {
		t.Fatalf("--force: %v, stderr %q", r.Error, r.Err)
	}
	s, _ := (store.Stores{Dir: e.StoresDir()}).Open("O")
	if oc, _, _ := s.Operator(); oc.Subject != pub2 {
		t.Errorf("operator key %s, want %s", oc.Subject, pub2)
	}
	if msg := e.MustFail("add", "operator", "P", "--force"); !strings.Contains(msg, "only works with -u") {
		t.Errorf("--force without -u: %s", msg)
	}
}
