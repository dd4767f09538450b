package speccmd_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// sysSpec is the system account as signet (like nsc) creates it, as export-spec writes it: a
// file that leaves it out would remove its signing key (cutting off its user sys) and exports.
const sysSpec = `  SYS:
    unscoped_signing_keys: 1
    exports:
      - subject: $SYS.ACCOUNT.*.>
        type: stream
        name: account-monitoring-streams
        account_token_position: 3
        description: Account specific monitoring stream
        info_url: https://docs.nats.io/nats-server/configuration/sys_accounts
      - subject: $SYS.REQ.ACCOUNT.*.*
        type: service
        name: account-monitoring-services
        response_type: Stream
        account_token_position: 4
        description: 'Request account specific monitoring services for: SUBSZ, CONNZ, LEAFZ, JSZ and INFO'
        info_url: https://docs.nats.io/nats-server/configuration/sys_accounts
`

const servedSpec = `system_account: SYS
accounts:
` + sysSpec + `  A:
    exports:
      - {subject: help, type: service}
    users:
      svc: {}
  B:
    limits: {conns: 5}
    imports:
      - {account: A, subject: help, local_subject: a.help}
    users:
      client: {}
      client2: {}
`

// servedOperator is an operator P (with SYS) whose account server URL is a full-resolver
// nats-server, auto-push on, and servedSpec written to a file.
func servedOperator(t *testing.T) (*clitest.Env, *store.Store, *natstest.Server, string) {
	t.Helper()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "P", "--sys")
	s := openStore(t, e, "P")
	tr, _ := natstest.FromStore(t, s)
	srv := natstest.StartFull(t, tr)
	e.MustRun("edit", "operator", "--account-jwt-server-url", srv.ClientURL(), "--auto-push")
	file := filepath.Join(e.Home, "auth.yaml")
	if err := os.WriteFile(file, []byte(servedSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	return e, s, srv, file
}

// TestAppliedSpecIsServedByFullResolver: a spec applied to an operator whose account server URL
// is a full-resolver nats-server reaches the server through apply's own push: a user of the
// importing account gets answers from the exporting account's service, and a connection limit
// lowered in the file is enforced once applied again.
func TestAppliedSpecIsServedByFullResolver(t *testing.T) {
	t.Parallel()
	e, _, srv, file := servedOperator(t)
	out := e.MustRunStatus("apply", "-f", file)
	for _, a := range []string{"A", "B"} {
		if !strings.Contains(out, `pushed account "`+a+`"`) {
			t.Fatalf("apply did not push %s:\n%s", a, out)
		}
	}
	dial := func(account, user string) (*nats.Conn, error) {
		creds := keystore.KeyStore{Dir: e.KeysDir()}.CredsPath("P", account, user)
		nc, err := nats.Connect(srv.ClientURL(), nats.UserCredentials(creds), nats.NoReconnect())
		if err == nil {
			t.Cleanup(nc.Close)
		}
		return nc, err
	}
	svc, err := dial("A", "svc")
	if err != nil {
		t.Fatalf("the exporting account's user cannot connect: %v", err)
	}
	if _, err := svc.Subscribe("help", func(m *nats.Msg) { _ = m.Respond([]byte("helped " + string(m.Data))) }); err != nil {
		t.Fatal(err)
	}
	if err := svc.Flush(); err != nil {
		t.Fatal(err)
	}
	client, err := dial("B", "client")
	if err != nil {
		t.Fatalf("the importing account's user cannot connect: %v", err)
	}
	reply, err := client.Request("a.help", []byte("B"), 5*time.Second)
	if err != nil {
		t.Fatalf("request on the imported service: %v", err)
	}
	if string(reply.Data) != "helped B" {
		t.Fatalf("reply %q", reply.Data)
	}

	// One connection at most for B: client holds it, client2 is refused.
	if err := os.WriteFile(file, []byte(strings.Replace(servedSpec, "conns: 5", "conns: 1", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out = e.MustRunStatus("apply", "-f", file)
	if !strings.Contains(out, `pushed account "B"`) || strings.Contains(out, `pushed account "A"`) {
		t.Fatalf("apply of a limit of B pushed something else than B:\n%s", out)
	}
	nc, err := dial("B", "client2")
	if err == nil {
		nc.Close()
		t.Fatal("a second connection of B was accepted after conns: 1 was applied")
	}
	if !strings.Contains(strings.ToLower(err.Error()), "maximum account active connections exceeded") {
		t.Fatalf("second connection refused with %v, want the server's connection limit", err)
	}
	if _, err := client.Request("a.help", []byte("B"), 5*time.Second); err != nil {
		t.Fatalf("the connection within the limit lost the service: %v", err)
	}
}

// TestPlanWithServersFindsDriftMadeBehindSignetsBack: after an apply, plan --servers finds
// nothing to do and no drift (exit 0); once a newer JWT of an account in the file is pushed to
// the server by another tool (signed by the operator, not in the store), plan reports that
// account as newer on that server and exits 2, with nothing to apply.
func TestPlanWithServersFindsDriftMadeBehindSignetsBack(t *testing.T) {
	t.Parallel()
	e, s, srv, file := servedOperator(t)
	e.MustRunStatus("apply", "-f", file)

	if r := e.Run("plan", "-f", file, "--servers", srv.ClientURL()); r.Error != nil {
		t.Fatalf("plan --servers right after apply: %v\n%s%s", r.Error, r.Out, r.Err)
	}

	// Another tool pushes a newer B (conns 7) straight to the server.
	oc, _, err := s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	signer, err := ks.Get(oc.Subject)
	if err != nil {
		t.Fatal(err)
	}
	ac, _, err := s.Account("B")
	if err != nil {
		t.Fatal(err)
	}
	ac.Limits.Conn = 7
	ac.IssuedAt = 0
	time.Sleep(1100 * time.Millisecond) // a later iat than the stored one
	tok, err := ac.Encode(signer)
	if err != nil {
		t.Fatal(err)
	}
	sysCreds := ks.CredsPath("P", "SYS", "sys")
	sys, err := nats.Connect(srv.ClientURL(), nats.UserCredentials(sysCreds))
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	if _, err := sys.Request("$SYS.REQ.CLAIMS.UPDATE", []byte(tok), 5*time.Second); err != nil {
		t.Fatal(err)
	}

	r := e.Run("plan", "-f", file, "--servers", srv.ClientURL(), "--json")
	if code := exitCode(r.Error); code != 2 {
		t.Fatalf("plan --servers with drift: exit %d (%v), want 2\n%s%s", code, r.Error, r.Out, r.Err)
	}
	var got struct {
		Changes []json.RawMessage `json:"changes"`
		Drift   struct {
			Entries []struct {
				Name   string `json:"name"`
				Status string `json:"status"`
				Source string `json:"source"`
			} `json:"entries"`
		} `json:"drift"`
	}
	if err := json.Unmarshal([]byte(r.Out), &got); err != nil {
		t.Fatalf("plan --json: %v\n%s", err, r.Out)
	}
	found := false
	for _, en := range got.Drift.Entries {
		switch {
		case en.Name == "B" && en.Status == "newer":
			found = true
		case en.Status != "in-sync":
			t.Errorf("unexpected drift entry %+v", en)
		}
	}
	if !found {
		t.Fatalf("B pushed behind signet's back is not reported newer: %+v", got.Drift.Entries)
	}
	for _, c := range got.Changes {
		if !strings.Contains(string(c), `"unchanged"`) && !strings.Contains(string(c), `"unmanaged"`) {
			t.Errorf("plan wants a change although only the server drifted: %s", c)
		}
	}
}
