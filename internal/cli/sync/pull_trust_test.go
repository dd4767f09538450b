package sync_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/accountserver"
	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/jwtstore"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/remote"
	"github.com/signet-dev/signet/store"
)

// pullFixture is a local operator O (with its system account) holding accounts B, C and D, and
// the account JWTs that the servers of these tests hand out:
//
//	foreignNew   (a) signed by a foreign operator, for an account key the store does not have
//	foreignLocal (b) signed by a foreign operator, for B's key, newer than the local B
//	olderC       (c) C signed by O, older than the local C (the local copy was edited since)
//	newerD       (d) D signed by O, newer than the local D (edited elsewhere, pushed by someone else)
type pullFixture struct {
	e *clitest.Env
	s *store.Store

	foreignNew, foreignLocal, olderC, newerD string
	foreignPub                               string
}

func newPullFixture(t *testing.T) *pullFixture {
	t.Helper()
	x := &pullFixture{e: clitest.New(t, cli.NewRootCmd)}
	e := x.e
	e.MustRun("add", "operator", "O", "--sys")
	for _, a := range []string{"B", "C", "D"} {
		e.MustRun("add", "account", a)
	}
	x.s = openOperator(t, e, "O")
	x.olderC = accountJWT(t, x.s, "C")
	bClaims, _ := accountClaims(t, x.s, "B")
	dClaims, _ := accountClaims(t, x.s, "D")
	waitPastSecond(t, newest(t, x.s, "B", "C", "D"))

	e.MustRun("edit", "account", "C", "--conns", "5")
	if c, _ := accountClaims(t, x.s, "C"); c.IssuedAt <= mustClaims(t, x.olderC).IssuedAt {
		t.Fatal("the local C is not newer than the served one")
	}
	oc, _, err := x.s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	dClaims.Limits.Conn = 7
	x.newerD = encode(t, dClaims, operatorKey(t, e, oc.Subject))

	foreign := natstest.NewOperator(t, "X")
	_, x.foreignPub, x.foreignNew = foreign.Account(t, "F")
	evil := jwt.NewAccountClaims(bClaims.Subject)
	evil.Name = "B"
	evil.Limits.Conn = -1
	x.foreignLocal = encode(t, evil, foreign.KP)
	return x
}

func openOperator(t *testing.T, e *clitest.Env, name string) *store.Store {
	t.Helper()
	s, err := (store.Stores{Dir: e.StoresDir()}).Open(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func accountJWT(t *testing.T, s *store.Store, name string) string {
	t.Helper()
	tok, err := s.AccountJWT(name)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func accountClaims(t *testing.T, s *store.Store, name string) (*jwt.AccountClaims, string) {
	t.Helper()
	ac, tok, err := s.Account(name)
	if err != nil {
		t.Fatal(err)
	}
	return ac, tok
}

func mustClaims(t *testing.T, tok string) *jwt.AccountClaims {
	t.Helper()
	ac, err := jwt.DecodeAccountClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	return ac
}

func operatorKey(t *testing.T, e *clitest.Env, pub string) nkeys.KeyPair {
	t.Helper()
	kp, err := keystore.KeyStore{Dir: e.KeysDir()}.Get(pub)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func encode(t *testing.T, ac *jwt.AccountClaims, kp nkeys.KeyPair) string {
	t.Helper()
	tok, err := ac.Encode(kp)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// newest is the latest iat of the named local accounts.
func newest(t *testing.T, s *store.Store, names ...string) int64 {
	t.Helper()
	var n int64
	for _, name := range names {
		ac, _ := accountClaims(t, s, name)
		n = max(n, ac.IssuedAt)
	}
	return n
}

// waitPastSecond waits until the clock is past second sec: iat has a one-second grain, and a
// JWT is newer than another only when it was signed in a later second.
func waitPastSecond(t *testing.T, sec int64) {
	t.Helper()
	deadline := time.After(3 * time.Second)
	for time.Now().Unix() <= sec {
		select {
		case <-time.After(time.Until(time.Unix(sec+1, 0))):
		case <-deadline:
			t.Fatalf("the clock did not pass %d", sec)
		}
	}
}

// snapshot is every file of the operator's store folder, by path relative to it.
func snapshot(t *testing.T, s *store.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(s.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.Dir, p)
		out[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// changes lists the files added, removed or rewritten with other bytes between two snapshots.
func changes(before, after map[string]string) []string {
	var out []string
	for p, b := range before {
		if a, ok := after[p]; !ok || a != b {
			out = append(out, p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// pull runs `signet pull args...` and checks which store files it changed, byte for byte, and
// whether it failed with a non-zero exit status.
func (x *pullFixture) pull(t *testing.T, wantFail bool, wantChanged []string, args ...string) clitest.Result {
	t.Helper()
	before := snapshot(t, x.s)
	r := x.e.Run(append([]string{"pull"}, args...)...)
	var exit *cmdutil.ExitError
	switch {
	case wantFail && !(errors.As(r.Error, &exit) && exit.Code != 0):
		t.Errorf("signet pull %s: error %v, want a non-zero exit status\nstderr:\n%s", strings.Join(args, " "), r.Error, r.Err)
	case !wantFail && r.Error != nil:
		t.Errorf("signet pull %s: %v\nstderr:\n%s", strings.Join(args, " "), r.Error, r.Err)
	}
	if got := changes(before, snapshot(t, x.s)); !slices.Equal(got, wantChanged) {
		t.Errorf("signet pull %s changed %v in the store, want %v\nstderr:\n%s", strings.Join(args, " "), got, wantChanged, r.Err)
	}
	return r
}

// refused checks that the command reported the JWT of pub as not issued by the operator.
func refused(t *testing.T, r clitest.Result, pub string) {
	t.Helper()
	if !strings.Contains(r.Err, "[ERR ] account "+pub) || !strings.Contains(r.Err, "refused") {
		t.Errorf("the refusal of %s is not reported:\n%s", pub, r.Err)
	}
}

func (x *pullFixture) has(t *testing.T, name, want string) {
	t.Helper()
	if got := accountJWT(t, x.s, name); got != want {
		t.Errorf("account %s holds another JWT than the one served", name)
	}
}

// compromisedServer answers nats-account-server's read API (GET /jwt/v1/accounts/<pub> and
// GET /jwt/v1/pack) with the given JWTs, checking nothing: a compromised or misconfigured account
// server. signet serve cannot play it, since it refuses to store JWTs its operator did not issue.
func compromisedServer(t *testing.T, tokens ...string) string {
	t.Helper()
	byKey := map[string]string{}
	for _, tok := range tokens {
		byKey[mustClaims(t, tok).Subject] = tok
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwt/v1/accounts/{pub}", func(w http.ResponseWriter, r *http.Request) {
		tok, ok := byKey[r.PathValue("pub")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/jwt")
		_, _ = io.WriteString(w, tok)
	})
	mux.HandleFunc("GET /jwt/v1/pack", func(w http.ResponseWriter, _ *http.Request) {
		for pub, tok := range byKey {
			_, _ = fmt.Fprintf(w, "%s|%s\n", pub, tok)
		}
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return hs.URL + "/jwt/v1"
}

// accountServer starts signet serve's account server trusting operatorJWT, pushes tokens to it
// over HTTP and returns its base URL.
func accountServer(t *testing.T, operatorJWT string, tokens ...string) string {
	t.Helper()
	cfg := accountserver.Config{OperatorJWT: operatorJWT, Backend: jwtstore.NewMemory()}
	cfg.HTTP.Host = "127.0.0.1"
	srv, err := accountserver.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	u := "http://" + srv.HTTPAddr() + "/jwt/v1"
	for _, tok := range tokens {
		if _, err := remote.PushHTTP(context.Background(), http.DefaultClient, u, tok); err != nil {
			t.Fatalf("account server refused %s: %v", mustClaims(t, tok).Name, err)
		}
	}
	return u
}

// TestPullRefusesJWTsTheOperatorDidNotIssue: an account server that hands out account JWTs of
// another operator (for a new key, or for the key of a local account) cannot get them into the
// store, with -a or -A, with or without --overwrite-newer; the JWTs the operator did issue in
// the same pack are still handled as usual.
func TestPullRefusesJWTsTheOperatorDidNotIssue(t *testing.T) {
	t.Parallel()
	x := newPullFixture(t)
	u := compromisedServer(t, x.foreignNew, x.foreignLocal, x.olderC, x.newerD)
	b, _ := accountClaims(t, x.s, "B")

	r := x.pull(t, true, nil, "-a", "B", "-u", u)
	refused(t, r, b.Subject)
	r = x.pull(t, true, nil, "-a", "B", "-u", u, "--overwrite-newer")
	refused(t, r, b.Subject)

	// -A: both foreign JWTs are refused (no new account, B untouched), the newer D is taken and
	// the local C, newer than the served one, is kept.
	r = x.pull(t, true, []string{"accounts/D/D.jwt"}, "-A", "-u", u)
	refused(t, r, b.Subject)
	refused(t, r, x.foreignPub)
	x.has(t, "D", x.newerD)
	if _, err := x.s.FindAccount(x.foreignPub); err == nil {
		t.Error("the foreign account was added to the store")
	}
	// --overwrite-newer replaces the local C with the operator's older JWT, and nothing else.
	r = x.pull(t, true, []string{"accounts/C/C.jwt"}, "-A", "-u", u, "--overwrite-newer")
	refused(t, r, b.Subject)
	refused(t, r, x.foreignPub)
	x.has(t, "C", x.olderC)
}

// TestPullKeepsNewerLocalJWTs: signet serve holds an older JWT of C (edited locally since) and a
// newer JWT of D. pull keeps the local C and fails for it with exit status 1, as nsc does (so
// that `pull || pull --overwrite-newer` is a script's way to choose), unless --overwrite-newer;
// pull -A still takes D.
func TestPullKeepsNewerLocalJWTs(t *testing.T) {
	t.Parallel()
	x := newPullFixture(t)
	opJWT, err := x.s.OperatorJWT()
	if err != nil {
		t.Fatal(err)
	}
	u := accountServer(t, opJWT, x.olderC, x.newerD)

	r := x.pull(t, true, nil, "-a", "C", "-u", u)
	if !strings.Contains(r.Err, `[ERR ] kept local account "C"`) {
		t.Errorf("pull -a C does not say it kept the newer local C:\n%s", r.Err)
	}
	r = x.pull(t, true, []string{"accounts/D/D.jwt"}, "-A", "-u", u)
	if !strings.Contains(r.Err, `[ERR ] kept local account "C"`) {
		t.Errorf("pull -A does not say it kept the newer local C:\n%s", r.Err)
	}
	x.has(t, "D", x.newerD)
	x.pull(t, false, []string{"accounts/C/C.jwt"}, "-a", "C", "-u", u, "--overwrite-newer")
	x.has(t, "C", x.olderC)
}

// TestPullStrictOperatorRefusesIdentitySignedJWTs: once the operator requires signing keys, an
// account JWT signed by its identity key is refused, even from an account server still
// configured with the operator JWT from before (which accepted it); one signed by the signing
// key is taken.
func TestPullStrictOperatorRefusesIdentitySignedJWTs(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O") // no system account: its user would need an account signing key too
	out := e.MustRunStatus("edit", "operator", "--sk", "generate")
	i := strings.Index(out, `added signing key "`)
	if i < 0 {
		t.Fatalf("edit operator --sk generate:\n%s", out)
	}
	sk := out[i+len(`added signing key "`):]
	sk = sk[:strings.Index(sk, `"`)]
	s := openOperator(t, e, "O")
	before, err := s.OperatorJWT()
	if err != nil {
		t.Fatal(err)
	}
	e.MustRun("edit", "operator", "--require-signing-keys")
	e.MustRun("add", "account", "S")
	e.MustRun("add", "account", "T")
	oc, _, err := s.Operator()
	if err != nil || !oc.StrictSigningKeyUsage {
		t.Fatalf("operator not strict: %v", err)
	}
	sc, _ := accountClaims(t, s, "S")
	tc, _ := accountClaims(t, s, "T")
	if sc.Issuer != sk || tc.Issuer != sk {
		t.Fatalf("accounts of a strict operator issued by %s and %s, want %s", sc.Issuer, tc.Issuer, sk)
	}
	waitPastSecond(t, newest(t, s, "S", "T"))
	identity := operatorKey(t, e, oc.Subject)
	sc.Limits.Conn = 3
	identityS := encode(t, sc, identity)
	nkp, _ := nkeys.CreateAccount()
	npub, _ := nkp.PublicKey()
	nc := jwt.NewAccountClaims(npub)
	nc.Name = "N"
	identityN := encode(t, nc, identity)
	tc.Limits.Conn = 4
	newerT := encode(t, tc, operatorKey(t, e, sk))
	u := accountServer(t, before, identityS, identityN, newerT)

	x := &pullFixture{e: e, s: s}
	for _, overwrite := range [][]string{nil, {"--overwrite-newer"}} {
		r := x.pull(t, true, nil, append([]string{"-a", "S", "-u", u}, overwrite...)...)
		refused(t, r, sc.Subject)
	}
	r := x.pull(t, true, []string{"accounts/T/T.jwt"}, "-A", "-u", u, "--overwrite-newer")
	refused(t, r, sc.Subject)
	refused(t, r, npub)
	x.has(t, "T", newerT)
}

// TestPullOverNATSTrustsOnlyTheOperator: a nats-server full resolver stores any account JWT a
// system user sends it, whoever issued it. pull from it over NATS refuses the foreign ones and
// keeps newer local JWTs, as pull over HTTP does.
func TestPullOverNATSTrustsOnlyTheOperator(t *testing.T) {
	t.Parallel()
	x := newPullFixture(t)
	oc, opJWT, err := x.s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	srv := natstest.StartFull(t, natstest.Trust{OperatorJWT: opJWT, SystemAccount: oc.SystemAccount, SystemAccountJWT: accountJWT(t, x.s, "SYS")})
	sys, err := nats.Connect(srv.ClientURL(), nats.UserCredentials(keystore.KeyStore{Dir: x.e.KeysDir()}.CredsPath("O", "SYS", "sys")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sys.Close)
	for _, tok := range []string{x.foreignNew, x.foreignLocal, x.olderC, x.newerD} {
		m, err := sys.Request("$SYS.REQ.CLAIMS.UPDATE", []byte(tok), 5*time.Second)
		if err != nil || strings.Contains(string(m.Data), `"error"`) {
			t.Fatalf("the resolver did not store %s: %v %s", mustClaims(t, tok).Name, err, m.Data)
		}
	}
	u := srv.ClientURL()
	b, _ := accountClaims(t, x.s, "B")

	r := x.pull(t, true, nil, "-a", "B", "-u", u)
	refused(t, r, b.Subject)
	r = x.pull(t, true, []string{"accounts/D/D.jwt"}, "-A", "-u", u)
	refused(t, r, b.Subject)
	refused(t, r, x.foreignPub)
	if !strings.Contains(r.Err, `[ERR ] kept local account "C"`) {
		t.Errorf("pull -A over NATS does not say it kept the newer local C:\n%s", r.Err)
	}
	x.has(t, "D", x.newerD)
	r = x.pull(t, true, []string{"accounts/C/C.jwt"}, "-A", "-u", u, "--overwrite-newer")
	refused(t, r, b.Subject)
	refused(t, r, x.foreignPub)
	x.has(t, "C", x.olderC)
}

// TestPullAllFailsForEachLocalAccountTheServerLacks: nsc's pull -A asks the account server for
// every account of the store and exits 1 with an error for each one it does not have (a 404);
// signet's does the same and changes nothing for them, still takes what the server has, and
// exits 0 once the server has them all.
func TestPullAllFailsForEachLocalAccountTheServerLacks(t *testing.T) {
	t.Parallel()
	x := newPullFixture(t)
	opJWT, err := x.s.OperatorJWT()
	if err != nil {
		t.Fatal(err)
	}
	u := accountServer(t, opJWT, x.newerD)
	r := x.pull(t, true, []string{"accounts/D/D.jwt"}, "-A", "-u", u)
	for _, name := range []string{"B", "C", "SYS"} {
		ac, _ := accountClaims(t, x.s, name)
		if !strings.Contains(r.Err, fmt.Sprintf("[ERR ] account %q (%s): not on %s", name, ac.Subject, u)) {
			t.Errorf("pull -A does not report %s as missing from the server:\n%s", name, r.Err)
		}
	}
	if strings.Contains(r.Err, `account "D" (`) {
		t.Errorf("pull -A reports D, which the server has, as missing:\n%s", r.Err)
	}
	for _, name := range []string{"B", "C", "SYS"} {
		if _, err := remote.PushHTTP(context.Background(), http.DefaultClient, u, accountJWT(t, x.s, name)); err != nil {
			t.Fatal(err)
		}
	}
	x.pull(t, false, nil, "-A", "-u", u)
}
