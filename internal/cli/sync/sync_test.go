package sync_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/accountserver"
	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/jwtstore"
	"github.com/signet-dev/signet/remote"
	"github.com/signet-dev/signet/store"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// managedOperator is an operator whose keys the test holds, served by signet serve in signing
// mode, as a managed operator's account server would be.
type managedOperator struct {
	kp, sk  nkeys.KeyPair
	jwt     string
	baseURL string // http://host:port/jwt/v1
	srv     *accountserver.Server
	backend jwtstore.Store
}

func startManaged(t *testing.T, signing bool) *managedOperator {
	t.Helper()
	port := freePort(t)
	m := &managedOperator{baseURL: fmt.Sprintf("http://127.0.0.1:%d/jwt/v1", port)}
	m.kp, _ = nkeys.CreateOperator()
	m.sk, _ = nkeys.CreateOperator()
	pub, _ := m.kp.PublicKey()
	skPub, _ := m.sk.PublicKey()
	oc := jwt.NewOperatorClaims(pub)
	oc.Name = "alpha"
	oc.SigningKeys.Add(skPub)
	oc.AccountServerURL = m.baseURL
	tok, err := oc.Encode(m.kp)
	if err != nil {
		t.Fatal(err)
	}
	m.jwt = tok
	cfg := accountserver.Config{OperatorJWT: tok}
	cfg.HTTP.Host = "127.0.0.1"
	cfg.HTTP.Port = port
	m.backend = jwtstore.NewMemory()
	cfg.Backend = m.backend
	if signing {
		seed, _ := m.sk.Seed()
		p := filepath.Join(t.TempDir(), "sk.nk")
		if err := os.WriteFile(p, seed, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.Signing.Key = p
	}
	srv, err := accountserver.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	m.srv = srv
	return m
}

// TestManagedOperatorWalkthrough follows seed 000 against signet serve in signing mode.
func TestManagedOperatorWalkthrough(t *testing.T) {
	t.Parallel()
	m := startManaged(t, true)
	e := clitest.New(t, cli.NewRootCmd)

	out := e.MustRunStatus("add", "operator", "-u", m.baseURL+"/operator")
	if !strings.Contains(out, `imported managed operator "alpha"`) {
		t.Fatalf("add operator -u: %s", out)
	}
	s, err := (store.Stores{Dir: e.StoresDir()}).Open("alpha")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Info.Managed {
		t.Fatal("operator imported without its key is not marked managed")
	}

	out = e.MustRunStatus("add", "account", "A")
	if !strings.Contains(out, "pushed account \"A\"") || !strings.Contains(out, "pulled account \"A\" signed by the operator") {
		t.Fatalf("add account in a managed store did not push and pull:\n%s", out)
	}
	ac, tok, err := s.Account("A")
	if err != nil {
		t.Fatal(err)
	}
	skPub, _ := m.sk.PublicKey()
	if ac.Issuer != skPub {
		t.Fatalf("stored account issued by %s, want the operator signing key %s", ac.Issuer, skPub)
	}
	served, err := m.backend.Get(ac.Subject)
	if err != nil {
		t.Fatalf("account not on the server: %v", err)
	}
	if served != tok {
		t.Fatal("the store does not hold the copy the server signed")
	}

	// The operator changes the account on the server; pull -A brings it back.
	changed, _ := jwt.DecodeAccountClaims(tok)
	changed.Limits.Conn = 7
	changed.IssuedAt = 0
	newTok, err := encodeLater(changed, m.sk, ac.IssuedAt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.PushHTTP(context.Background(), http.DefaultClient, m.baseURL, newTok); err != nil {
		t.Fatalf("operator update: %v", err)
	}
	e.MustRun("pull", "-A")
	ac2, _, err := s.Account("A")
	if err != nil {
		t.Fatal(err)
	}
	if ac2.Limits.Conn != 7 {
		t.Fatalf("pull -A did not bring back the server's change: conns=%d", ac2.Limits.Conn)
	}
}

// encodeLater signs claims with an iat after `after`, without sleeping: jwt/v2 sets iat to now,
// so when now is not later we wait for the next second by polling the clock.
func encodeLater(ac *jwt.AccountClaims, kp nkeys.KeyPair, after int64) (string, error) {
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Unix() <= after && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return ac.Encode(kp)
}

// TestPushRefusedIsReported: a server that does not sign refuses a self-signed account, and the
// command says why.
func TestPushRefusedIsReported(t *testing.T) {
	t.Parallel()
	m := startManaged(t, false)
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "-u", m.baseURL+"/operator")
	r := e.Run("add", "account", "A")
	if r.Error == nil {
		t.Fatalf("push of a self-signed account to a non-signing server succeeded:\n%s", r.Out)
	}
	if !strings.Contains(r.Error.Error(), "signet push -a A") || !strings.Contains(r.Error.Error(), "400") && !strings.Contains(r.Error.Error(), "403") {
		t.Fatalf("refusal not reported with its reason and the fix: %v", r.Error)
	}
	// The store stays consistent: the account exists locally.
	s, _ := (store.Stores{Dir: e.StoresDir()}).Open("alpha")
	if !s.HasAccount("A") {
		t.Fatal("local account lost after a refused push")
	}
}

// TestWellKnownOperatorFromEnv: nsc_<name>_operator names an operator URL.
func TestWellKnownOperatorFromEnv(t *testing.T) {
	t.Parallel()
	m := startManaged(t, true)
	e := clitest.New(t, cli.NewRootCmd)
	e.Vars["NSC_ZOOM_OPERATOR"] = m.baseURL + "/operator"
	e.MustRun("init", "-o", "zoom", "-n", "team")
	s, err := (store.Stores{Dir: e.StoresDir()}).Open("alpha")
	if err != nil {
		t.Fatal(err)
	}
	if !s.HasAccount("team") || !s.HasUser("team", "team") {
		t.Fatal("init -o did not create the account and user")
	}
	if r := e.Run("add", "operator", "-u", "nosuch"); r.Error == nil || !strings.Contains(r.Error.Error(), "nsc_nosuch_operator") {
		t.Fatalf("unknown well-known operator: %v", r.Error)
	}
}

// TestPushPullCluster pushes 1,000 accounts to three full resolvers, prunes one, and restores a
// deleted store with pull. After each step every server holds exactly the store's accounts, each
// JWT byte for byte what the store holds, and the restored store holds the servers' JWTs.
func TestPushPullCluster(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.Vars["SIGNET_NO_PUSH"] = "1"
	e.MustRun("init", "-n", "O")
	s, err := (store.Stores{Dir: e.StoresDir()}).Open("O")
	if err != nil {
		t.Fatal(err)
	}
	oc, opTok, err := s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	_, sysTok, err := s.Account("SYS")
	if err != nil {
		t.Fatal(err)
	}
	n := 1000
	if testing.Short() {
		n = 100
	}
	for i := 0; i < n; i++ {
		e.MustRun("add", "account", fmt.Sprintf("A%04d", i))
	}
	tr := natstest.Trust{OperatorJWT: opTok, SystemAccount: oc.SystemAccount, SystemAccountJWT: sysTok}
	servers := natstest.StartCluster(t, 3, tr)
	url := servers[0].ClientURL()

	out := e.MustRun("push", "-A", "-u", url, "--json")
	if !strings.Contains(out, `"complete": true`) {
		t.Fatalf("push -A incomplete:\n%s", out[:min(len(out), 2000)])
	}
	stored := storeJWTs(t, s)
	if len(stored) != n+2 { // + SYS and O
		t.Fatalf("store holds %d accounts, want %d", len(stored), n+2)
	}
	for _, sv := range servers {
		sameJWTs(t, "server "+sv.Name(), stored, serverJWTs(t, sv))
	}

	// Prune: an account deleted from the store is deleted from every server; the others stay
	// as they were.
	gone, _, err := s.Account("A0000")
	if err != nil {
		t.Fatal(err)
	}
	e.MustRun("delete", "account", "A0000")
	e.MustRun("push", "-A", "--prune", "-u", url)
	stored = storeJWTs(t, s)
	if _, ok := stored[gone.Subject]; ok || len(stored) != n+1 {
		t.Fatalf("store after delete account holds %d accounts (A0000 still there: %v)", len(stored), ok)
	}
	for _, sv := range servers {
		sameJWTs(t, "server "+sv.Name()+" after the prune", stored, serverJWTs(t, sv))
	}

	// pull -A restores a deleted store: every account under its name, with the servers' JWT.
	names, err := s.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(s.Dir, "accounts")); err != nil {
		t.Fatal(err)
	}
	e.MustRun("pull", "-A", "-u", url)
	restored, err := s.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(restored, names) {
		t.Fatalf("pull -A restored %d accounts %v..., want %d", len(restored), restored[:min(len(restored), 5)], len(names))
	}
	sameJWTs(t, "store restored by pull -A", serverJWTs(t, servers[2]), storeJWTs(t, s))
	// One account over NATS: the restored copy is what the servers hold.
	if out := e.MustRunStatus("pull", "-a", "A0050", "-u", url); !strings.Contains(out, `account "A0050" is up to date`) {
		t.Fatalf("pull -a over NATS: %s", out)
	}
}

// storeJWTs returns every account JWT of the store by public key.
func storeJWTs(t *testing.T, s *store.Store) map[string]string {
	t.Helper()
	names, err := s.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(names))
	for _, name := range names {
		tok, err := s.AccountJWT(name)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := store.PeekSubject(tok)
		if err != nil {
			t.Fatalf("account %q: %v", name, err)
		}
		out[pub] = tok
	}
	return out
}

// serverJWTs returns the account JWTs a full-resolver server stores, by public key.
func serverJWTs(t *testing.T, sv *natstest.Server) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(sv.Dir)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		pub, ok := strings.CutSuffix(e.Name(), ".jwt")
		if !ok {
			continue
		}
		data, err := os.ReadFile(filepath.Join(sv.Dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[pub] = string(data)
	}
	return out
}

// sameJWTs fails unless got holds exactly the accounts of want, each with the same JWT.
func sameJWTs(t *testing.T, what string, want, got map[string]string) {
	t.Helper()
	for pub, tok := range want {
		g, ok := got[pub]
		switch {
		case !ok:
			t.Fatalf("%s lacks account %s", what, pub)
		case g != tok:
			t.Fatalf("%s holds another JWT for account %s:\n got %.80s...\nwant %.80s...", what, pub, g, tok)
		}
	}
	if len(got) != len(want) {
		for pub := range got {
			if _, ok := want[pub]; !ok {
				t.Fatalf("%s holds %d accounts, want %d: %s is extra", what, len(got), len(want), pub)
			}
		}
	}
}
