package entity_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

func openO(t *testing.T, e *clitest.Env) *store.Store {
	t.Helper()
	s, err := store.Stores{Dir: e.StoresDir()}.Open("O")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAddAccountAndUserWithPublicKeyStoreNoSeed(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	out := e.MustRunStatus("add", "account", "K", "-k", apub)
	if strings.Contains(out, "generated") || !strings.Contains(out, `added account "K"`) {
		t.Errorf("add account -k: %s", out)
	}
	s := openO(t, e)
	ac, _, err := s.Account("K")
	if err != nil || ac.Subject != apub {
		t.Fatalf("account K: %v, subject %s want %s", err, ac.Subject, apub)
	}
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	if ks.Has(apub) {
		t.Error("the account's key went into the keystore")
	}

	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	out = e.MustRunStatus("add", "user", "u", "-a", "O", "--public-key", upub)
	if !strings.Contains(out, "skipped generating creds file") {
		t.Errorf("add user -k (public key only): %s", out)
	}
	uc, _, err := s.User("O", "u")
	if err != nil || uc.Subject != upub {
		t.Fatalf("user u: %v", err)
	}
	if _, err := os.Stat(ks.CredsPath("O", "O", "u")); err == nil {
		t.Error("a creds file was written without the user's seed")
	}
	// A key the keystore holds gets its creds file.
	if _, err := ks.Store(ukp); err != nil {
		t.Fatal(err)
	}
	e.MustRun("add", "user", "v", "-a", "O", "-k", upub)
	if _, err := os.Stat(ks.CredsPath("O", "O", "v")); err != nil {
		t.Errorf("no creds for a user whose seed the keystore holds: %v", err)
	}
	if msg := e.MustFail("add", "user", "w", "-a", "O", "-k", apub); !strings.Contains(msg, "not a user key") {
		t.Errorf("add user -k <account key>: %s", msg)
	}
}

func TestDeleteAccountTakesNscFlags(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	e.MustRun("add", "account", "A")
	e.MustRun("add", "user", "a", "-a", "A")
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	creds := ks.CredsPath("O", "A", "a")
	if _, err := os.Stat(creds); err != nil {
		t.Fatal(err)
	}
	a, _, _ := openO(t, e).Account("A")
	r := e.Run("delete", "account", "-n", "A", "-C", "-R")
	if r.Error != nil || !strings.Contains(r.Err, "[WARN] nsc's --revoke changes nothing in signet") {
		t.Fatalf("delete account -R: %v, stderr %q", r.Error, r.Err)
	}
	if openO(t, e).HasAccount("A") {
		t.Error("account A still there")
	}
	if _, err := os.Stat(creds); err == nil {
		t.Error("-C kept the creds file")
	}
	if !ks.Has(a.Subject) {
		t.Error("without -D the account's key went too")
	}
	// -D removes the keys (and, in signet, the creds).
	e.MustRun("add", "account", "B")
	e.MustRun("add", "user", "b", "-a", "B")
	b, _, _ := openO(t, e).Account("B")
	bu, _, _ := openO(t, e).User("B", "b")
	e.MustRun("delete", "account", "B", "--rm-nkey")
	if ks.Has(b.Subject) || ks.Has(bu.Subject) {
		t.Error("--rm-nkey kept a key")
	}
	if _, err := os.Stat(ks.CredsPath("O", "B", "b")); err == nil {
		t.Error("--rm-nkey kept the creds")
	}
}

func TestDeleteUserRemovesKeyAndCredsOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	for _, u := range []string{"keep", "gone"} {
		e.MustRun("add", "user", u, "-a", "O")
	}
	keep, _, _ := openO(t, e).User("O", "keep")
	gone, _, _ := openO(t, e).User("O", "gone")
	e.MustRun("delete", "user", "keep", "-a", "O", "--revoke=false")
	if !ks.Has(keep.Subject) {
		t.Error("delete user without -D removed the key")
	}
	if ac, _, _ := openO(t, e).Account("O"); ac.Revocations[keep.Subject] != 0 {
		t.Error("--revoke=false revoked the user")
	}
	e.MustRun("delete", "user", "-n", "gone", "-a", "O", "-D", "-C", "-R")
	if ks.Has(gone.Subject) {
		t.Error("-D kept the key")
	}
	if _, err := os.Stat(ks.CredsPath("O", "O", "gone")); err == nil {
		t.Error("-C kept the creds")
	}
	if ac, _, _ := openO(t, e).Account("O"); ac.Revocations[gone.Subject] == 0 {
		t.Error("-R did not revoke")
	}
}

func TestDeleteAccountOfAManagedOperatorNeedsForce(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.Vars["SIGNET_NO_PUSH"] = "1"
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	oc := jwt.NewOperatorClaims(opub)
	oc.Name = "O"
	tok, err := oc.Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(e.Home, "O.jwt")
	if err := os.WriteFile(file, []byte(tok), 0o644); err != nil {
		t.Fatal(err)
	}
	e.MustRun("add", "operator", "-u", file)
	e.MustRun("add", "account", "A")
	if msg := e.MustFail("delete", "account", "A"); !strings.Contains(msg, "managed") || !strings.Contains(msg, "--force") {
		t.Errorf("delete account of a managed operator: %s", msg)
	}
	r := e.Run("delete", "account", "A", "-F")
	if r.Error != nil || !strings.Contains(r.Err, "stays on the account server") {
		t.Errorf("delete account -F of a managed operator: %v, stderr %q", r.Error, r.Err)
	}
	if openO(t, e).HasAccount("A") {
		t.Error("account A still there after -F")
	}
}

func TestEditAccountTakesNscOldJetStreamNamesAndHostClusterTraffic(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	r := e.Run("edit", "account", "O", "--mem-storage", "1M", "--disk-storage", "2M", "--streams", "3", "--consumer", "4", "--host-cluster-traffic")
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	if strings.Contains(r.Out, "old name") || !strings.Contains(r.Err, "[WARN] --mem-storage is an old name: use --js-mem-storage") {
		t.Errorf("no deprecation notice: %q", r.Err)
	}
	ac, _, _ := openO(t, e).Account("O")
	l := ac.Limits.JetStreamLimits
	if l.MemoryStorage != 1000000 || l.DiskStorage != 2000000 || l.Streams != 3 || l.Consumer != 4 {
		t.Errorf("limits %+v", l)
	}
	if ac.ClusterTraffic != jwt.ClusterTrafficOwner {
		t.Errorf("cluster traffic %q", ac.ClusterTraffic)
	}
	e.MustRun("edit", "account", "O", "--host-cluster-traffic=false")
	if ac, _, _ := openO(t, e).Account("O"); ac.ClusterTraffic != "" {
		t.Errorf("cluster traffic %q after =false", ac.ClusterTraffic)
	}
}

func TestEditOperatorRmAccountJWTServerURL(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	e.MustRun("edit", "operator", "-u", "http://127.0.0.1:9090/jwt/v1")
	e.MustRun("edit", "operator", "--rm-account-jwt-server-url")
	if oc, _, _ := openO(t, e).Operator(); oc.AccountServerURL != "" {
		t.Errorf("account server URL %q kept", oc.AccountServerURL)
	}
	if msg := e.MustFail("edit", "operator", "--rm-account-jwt-server-url", "-u", "http://x/jwt/v1"); !strings.Contains(msg, "exclusive") {
		t.Errorf("both: %s", msg)
	}
}

func TestInitDirCreatesTheOperatorThereAndRecordsIt(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	dir := filepath.Join(e.Home, "elsewhere")
	e.MustRun("init", "-n", "O", "-d", dir)
	if _, err := os.Stat(filepath.Join(dir, "O", "O.jwt")); err != nil {
		t.Fatalf("operator not under --dir: %v", err)
	}
	if out := e.MustRun("list", "accounts", "--json"); !strings.Contains(out, `"name": "O"`) {
		t.Errorf("nsc.json does not point at --dir:\n%s", out)
	}
	// --remote-operator is nsc's name of -o.
	e.MustRun("init", "-n", "B", "--remote-operator", "O")
	if out := e.MustRun("list", "accounts", "--json"); !strings.Contains(out, `"name": "B"`) {
		t.Errorf("init --remote-operator O did not add B to O:\n%s", out)
	}
}

// TestInitGivesTheOperatorALocalServiceURL: nsc's init records nats://localhost:4222 as the
// operator's service URL, which `tool pub/sub`, contexts and profiles connect to when no server
// is named; a script written for nsc (init, generate config, start the server, tool pub) relies on it.
func TestInitGivesTheOperatorALocalServiceURL(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	oc, _, err := openO(t, e).Operator()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"nats://localhost:4222"}; !slices.Equal(oc.OperatorServiceURLs, want) {
		t.Errorf("operator service URLs %v, want %v", oc.OperatorServiceURLs, want)
	}
	e.MustRun("generate", "context", "-a", "O", "-u", "O", "--context", "local")
	ctx, err := os.ReadFile(filepath.Join(e.Vars["XDG_CONFIG_HOME"], "nats", "context", "local.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ctx), `"url": "nats://localhost:4222"`) {
		t.Errorf("context without the operator's service URL:\n%s", ctx)
	}
}

func TestAddOperatorSysShortFlag(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "-s")
	if !openO(t, e).HasAccount("SYS") {
		t.Error("add operator -s made no system account")
	}
}
