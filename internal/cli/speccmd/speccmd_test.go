package speccmd_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/store"
)

func openStore(t *testing.T, e *clitest.Env, name string) *store.Store {
	t.Helper()
	s, err := store.Stores{Dir: e.StoresDir()}.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func account(t *testing.T, s *store.Store, name string) *jwt.AccountClaims {
	t.Helper()
	ac, _, err := s.Account(name)
	if err != nil {
		t.Fatal(err)
	}
	return ac
}

func exitCode(err error) int {
	var ee *cmdutil.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.Code
	}
	return 1
}

// sameFiles fails the test when what changed, added or removed a file of the snapshot.
func sameFiles(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for k, v := range before {
		if a, ok := after[k]; !ok || a != v {
			t.Errorf("%s changed or removed %s", what, k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s added %s", what, k)
		}
	}
}

// quoted returns the first "..." value after prefix in out.
func quoted(t *testing.T, out, prefix string) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(prefix) + ` "([^"]+)"`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %s \"...\" in:\n%s", prefix, out)
	}
	return m[1]
}

// builtByCommands makes operator O the way a person would with the CLI: limits, a service and
// a stream export, a private service imported with an activation token, a mapping, an
// unscoped and a scoped signing key with a template, a service user of the scoped role, and a
// user with permissions of its own.
func builtByCommands(t *testing.T) *clitest.Env {
	t.Helper()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys")
	e.MustRun("add", "account", "A")
	e.MustRun("add", "account", "B")
	e.MustRun("edit", "account", "A", "--conns", "5", "--payload", "1MB", "--subscriptions", "1000", "--imports", "20", "--exports", "30", "--leaf-conns", "2")
	e.MustRun("edit", "account", "B", "--js-tier", "1", "--js-mem-storage", "1G", "--js-disk-storage", "2G", "--js-streams", "10", "--js-consumer", "50")
	e.MustRun("add", "export", "-a", "A", "-s", "help", "--service", "--response-type", "Stream")
	e.MustRun("add", "export", "-a", "A", "-s", "news.>")
	e.MustRun("add", "export", "-a", "A", "-s", "secret", "--service", "--private")
	e.MustRun("add", "import", "-a", "B", "--src-account", "A", "--remote-subject", "help", "--local-subject", "a.help", "--service")
	e.MustRun("add", "import", "-a", "B", "--src-account", "A", "--remote-subject", "news.>")
	act := filepath.Join(e.Home, "secret.jwt")
	e.MustRun("generate", "activation", "-a", "A", "-t", "B", "-s", "secret", "-o", act)
	e.MustRun("add", "import", "-a", "B", "--token", act)
	e.MustRun("add", "mapping", "-a", "A", "-f", "orders", "-t", "orders.v2", "--weight", "40")
	e.MustRun("edit", "account", "A", "--sk", "generate", "--tag", "team:a")
	sk := quoted(t, e.MustRunStatus("edit", "account", "A", "--sk", "generate"), "added signing key")
	e.MustRun("edit", "signing-key", "-a", "A", "--sk", sk, "--role", "svc", "--allow-sub", "{{name()}}.>", "--allow-pub", "_INBOX.>", "--allow-pub-response")
	e.MustRun("add", "user", "worker", "-a", "A", "-K", "svc")
	e.MustRun("add", "user", "client", "-a", "B", "--allow-pub", "a.help", "--allow-sub", "_INBOX.>")
	return e
}

func TestExportedSpecAppliedToAnotherOperatorPlansNoChanges(t *testing.T) {
	t.Parallel()
	e := builtByCommands(t)
	file := filepath.Join(e.Home, "auth.yaml")
	e.MustRun("export-spec", "--operator", "O", "--users", "-o", file)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`\bS[AUO][A-Z2-7]{50,}`).Match(data) {
		t.Fatalf("the spec holds a seed:\n%s", data)
	}

	// The store the spec came from has nothing to do.
	if r := e.Run("plan", "-f", file, "--operator", "O"); exitCode(r.Error) != 0 {
		t.Fatalf("plan of the exported spec against its own store: exit %d (%v)\n%s%s", exitCode(r.Error), r.Error, r.Out, r.Err)
	}
	// An empty operator gets it all, with keys of its own.
	e.MustRun("add", "operator", "P", "--sys")
	r := e.Run("plan", "-f", file, "--operator", "P")
	if exitCode(r.Error) != 2 || !strings.Contains(r.Out, `+ create account "A"`) || !strings.Contains(r.Out, `+ create user "worker" of account "A"`) {
		t.Fatalf("plan against the empty operator: exit %d, want 2 with creations\n%s", exitCode(r.Error), r.Out)
	}
	e.MustRun("apply", "-f", file, "--operator", "P")
	r = e.Run("plan", "-f", file, "--operator", "P")
	if exitCode(r.Error) != 0 || !strings.Contains(r.Out, "nothing to do") {
		t.Fatalf("plan after apply: exit %d (%v), want 0\n%s", exitCode(r.Error), r.Error, r.Out)
	}
	// Both operators now export the same spec: the content made it across, keys did not.
	again := e.MustRun("export-spec", "--operator", "P", "--users")
	if again != string(data) {
		t.Fatalf("the spec of P differs from O's:\n--- O\n%s\n--- P\n%s", data, again)
	}
	o, p := openStore(t, e, "O"), openStore(t, e, "P")
	for _, n := range []string{"A", "B"} {
		if account(t, o, n).Subject == account(t, p, n).Subject {
			t.Errorf("account %s has the same key in both operators: promotion copied a key", n)
		}
	}
	pa, pb := account(t, p, "A"), account(t, p, "B")
	var secret *jwt.Import
	for _, im := range pb.Imports {
		if im.Subject == "secret" {
			secret = im
		}
	}
	if secret == nil || secret.Token == "" || secret.Account != pa.Subject {
		t.Fatalf("P's B imports secret without an activation from P's A: %+v", secret)
	}
	act, err := jwt.DecodeActivationClaims(secret.Token)
	if err != nil || act.Subject != pb.Subject || (act.Issuer != pa.Subject && !pa.SigningKeys.Contains(act.Issuer)) {
		t.Fatalf("activation %+v (%v): want one for P's B issued by P's A", act, err)
	}
	uc, _, err := p.User("A", "worker")
	if err != nil {
		t.Fatal(err)
	}
	if scope, ok := pa.SigningKeys.GetScope(uc.Issuer); !ok || scope == nil || scope.(*jwt.UserScope).Role != "svc" {
		t.Fatalf("worker of P is signed by %s, not by the svc role of P's A", uc.Issuer)
	}
	if _, err := os.Stat(filepath.Join(e.KeysDir(), "creds", "P", "A", "worker.creds")); err != nil {
		t.Errorf("no creds for P's worker: %v", err)
	}

	// A second apply re-signs nothing: same files, same iat.
	iat := pa.IssuedAt
	before := clitest.Snapshot(t, e.StoresDir(), e.KeysDir())
	out := e.MustRunStatus("apply", "-f", file, "--operator", "P")
	if !strings.Contains(out, "nothing to do") {
		t.Errorf("second apply says:\n%s", out)
	}
	sameFiles(t, "second apply", before, clitest.Snapshot(t, e.StoresDir(), e.KeysDir()))
	if got := account(t, openStore(t, e, "P"), "A").IssuedAt; got != iat {
		t.Errorf("account A re-signed by the second apply: iat %d, was %d", got, iat)
	}
}

func TestPlanShowsFieldChangesAndApplyMakesThem(t *testing.T) {
	t.Parallel()
	e := builtByCommands(t)
	file := filepath.Join(e.Home, "auth.yaml")
	e.MustRun("export-spec", "-o", file)
	data, _ := os.ReadFile(file)
	changed := strings.Replace(string(data), "conns: 5", "conns: 7", 1)
	if changed == string(data) {
		t.Fatalf("no conns: 5 in\n%s", data)
	}
	if err := os.WriteFile(file, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.Run("plan", "-f", file)
	if exitCode(r.Error) != 2 || !strings.Contains(r.Out, "~ change account \"A\"\n    limits.conns: 5 -> 7\n") {
		t.Fatalf("plan: exit %d\n%s", exitCode(r.Error), r.Out)
	}
	e.MustRun("apply", "-f", file)
	if got := account(t, openStore(t, e, "O"), "A").Limits.Conn; got != 7 {
		t.Fatalf("conns %d after apply, want 7", got)
	}
	// The users the file does not list are reported as left alone, not deleted.
	if !strings.Contains(r.Out, "left alone") {
		t.Errorf("plan does not say the users missing from the file are left alone:\n%s", r.Out)
	}
	if _, _, err := openStore(t, e, "O").User("A", "worker"); err != nil {
		t.Errorf("an unmanaged user was touched: %v", err)
	}
}

func TestPruneDeletesOnlyWithTheFlag(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys")
	e.MustRun("add", "account", "OLD")
	e.MustRun("add", "account", "A")
	e.MustRun("add", "user", "keep", "-a", "A")
	e.MustRun("add", "user", "gone", "-a", "A")
	file := filepath.Join(e.Home, "auth.yaml")
	spec := "system_account: SYS\naccounts:\n" + sysSpec + "    users: {sys: {}}\n  A:\n    manage_users: true\n    users: {keep: {}}\n"
	if err := os.WriteFile(file, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, e, "O")
	gone, _, err := s.User("A", "gone")
	if err != nil {
		t.Fatal(err)
	}
	r := e.Run("plan", "-f", file)
	if exitCode(r.Error) != 0 || !strings.Contains(r.Out, `account "OLD" is not in the file (kept; --prune deletes it)`) {
		t.Fatalf("plan without --prune: exit %d\n%s", exitCode(r.Error), r.Out)
	}
	e.MustRun("apply", "-f", file)
	if !s.HasAccount("OLD") || !s.HasUser("A", "gone") {
		t.Fatal("apply without --prune deleted something")
	}
	if r := e.Run("plan", "-f", file, "--prune"); exitCode(r.Error) != 2 {
		t.Fatalf("plan --prune: exit %d, want 2\n%s", exitCode(r.Error), r.Out)
	}
	e.MustRun("apply", "-f", file, "--prune")
	if s.HasAccount("OLD") || s.HasUser("A", "gone") || !s.HasUser("A", "keep") {
		t.Fatalf("after apply --prune: OLD %v, gone %v, keep %v", s.HasAccount("OLD"), s.HasUser("A", "gone"), s.HasUser("A", "keep"))
	}
	if _, ok := account(t, s, "A").Revocations[gone.Subject]; !ok {
		t.Error("the pruned user was not revoked in its account")
	}
	if r := e.Run("plan", "-f", file, "--prune"); exitCode(r.Error) != 0 {
		t.Fatalf("plan --prune after the prune: exit %d\n%s", exitCode(r.Error), r.Out)
	}
}

func TestBadSpecChangesNothing(t *testing.T) {
	t.Parallel()
	e := builtByCommands(t)
	e.MustRun("add", "operator", "P", "--sys")
	cases := []struct{ name, text, want string }{
		{"unknown field", "accounts:\n  A:\n    limits:\n      conns: 1\n      conections: 2\n", `bad.yaml:5: unknown field "conections"`},
		{"import of an unknown account", "accounts:\n  A: {}\n  B:\n    imports:\n      - account: NOPE\n        subject: x\n", `bad.yaml:5: account "B" imports "x" from "NOPE"`},
		{"unknown signing-key role", "accounts:\n  A:\n    users:\n      u:\n        signing_key: admin\n", `bad.yaml:5: user "u" is signed by role "admin", which is not a signing key`},
		{"template that does not parse", "accounts:\n  A:\n    signing_keys:\n      svc:\n        sub: {allow: [\"{{tag(}}.x\"]}\n", `bad.yaml:5: template`},
	}
	for _, c := range cases {
		file := filepath.Join(e.Home, "bad.yaml")
		if err := os.WriteFile(file, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		before := clitest.Snapshot(t, e.StoresDir(), e.KeysDir())
		for _, cmd := range [][]string{{"plan", "-f", file}, {"apply", "-f", file, "--operator", "P", "--prune"}} {
			r := e.Run(cmd...)
			if exitCode(r.Error) != 1 || !strings.Contains(r.Error.Error(), c.want) {
				t.Errorf("%s: signet %s: exit %d, error %v; want %q", c.name, cmd[0], exitCode(r.Error), r.Error, c.want)
			}
		}
		sameFiles(t, c.name, before, clitest.Snapshot(t, e.StoresDir(), e.KeysDir()))
	}
}

// TestApplyKeepsRevocations: an account re-signed by apply (a limit changed in the file) keeps
// the users revoked before, although revocations are not part of the spec: a revoked user
// stays revoked.
func TestApplyKeepsRevocations(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys")
	e.MustRun("add", "account", "A")
	e.MustRun("add", "user", "-a", "A", "u")
	e.MustRun("revocations", "add-user", "-a", "A", "-n", "u")
	s := openStore(t, e, "O")
	uc, _, err := s.User("A", "u")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(e.Home, "auth.yaml")
	if err := os.WriteFile(file, []byte("system_account: SYS\naccounts:\n  SYS: {}\n  A:\n    limits: {conns: 3}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.MustRunStatus("apply", "-f", file)
	ac := account(t, s, "A")
	if ac.Limits.Conn != 3 {
		t.Fatalf("apply did not set conns: %d", ac.Limits.Conn)
	}
	if !ac.IsClaimRevoked(uc) {
		t.Fatalf("apply dropped the revocation of u: %v", ac.Revocations)
	}
}
