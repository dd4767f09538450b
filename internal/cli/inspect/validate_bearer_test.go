package inspect_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// TestValidateReportsBearerUserOfAnAccountThatDisallowsBearer: a store where an account
// disallows bearer tokens but holds a bearer user (made by another tool, or by a scoped key
// whose template says --bearer) fails validate naming the user; a nats-server refuses that
// user, and lets a user that is not a bearer user in.
func TestValidateReportsBearerUserOfAnAccountThatDisallowsBearer(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // operator O with SYS and O (one user each)
	e.MustRun("add", "account", "A")
	e.MustRun("add", "user", "plain", "-a", "A")
	e.MustRun("add", "user", "bearer", "-a", "A", "--bearer")
	e.MustRun("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "svc", "--bearer")
	e.MustRun("add", "user", "scoped", "-a", "A", "-K", "svc")
	e.MustRun("validate", "-a", "A")

	// signet's edit account refuses --disallow-bearer here, as nsc does: set it underneath.
	s := openStore(t, e, "O")
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	if _, err := ops.UpdateAccount(s, ks, ops.AccountUpdate{Account: "A", Change: func(_ string, ac *jwt.AccountClaims) error {
		ac.Limits.DisallowBearer = true
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	msg := e.MustFail("validate", "-a", "A")
	r := e.Run("validate", "-a", "A")
	out := r.Out + r.Err + msg
	for _, want := range []string{"A/bearer", "A/scoped", `account "A" disallows bearer tokens`, "signet edit user bearer -a A --bearer=false", "signet edit signing-key"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "A/plain") {
		t.Errorf("validate reports the user that is not a bearer user:\n%s", out)
	}

	admits(t, s, ks, "A disallows bearer tokens", map[string]bool{"plain": true, "bearer": false, "scoped": false})
}

// admits starts a nats-server that trusts the store's operator, with its accounts preloaded,
// and checks which users of account A it admits with their creds; when says when.
func admits(t *testing.T, s *store.Store, ks keystore.KeyStore, when string, want map[string]bool) {
	t.Helper()
	tr, accounts := natstest.FromStore(t, s)
	srv := natstest.StartMemory(t, tr, accounts)
	for user, admitted := range want {
		nc, err := nats.Connect(srv.ClientURL(), nats.UserCredentials(ks.CredsPath("O", "A", user)), nats.NoReconnect(), nats.Timeout(5*time.Second))
		if err == nil {
			nc.Close()
		}
		if (err == nil) != admitted {
			t.Errorf("%s: user %s: connect error %v, want admitted=%t", when, user, err, admitted)
		}
	}
}

// TestBearerUserIsOneTheServerBindsToTheAccount: nats-server binds a user to the account its
// issuer_account names (its issuer, when empty), applies the scope of that account's signing key
// that signed it, and only then checks bearer against that account. So in account A a user
// whose issuer_account is B is no user of A at all, bearer or not (its own flag, or the
// template of the scope of A that signed it): validate reports its issuer_account, and no
// bearer problem, and it does not stop `edit account A --disallow-bearer`; the server refuses
// it whether A allows bearer tokens or not.
func TestBearerUserIsOneTheServerBindsToTheAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "account", "A")
	e.MustRun("add", "account", "B")
	e.MustRun("add", "user", "plain", "-a", "A")
	e.MustRun("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "svc", "--bearer")
	s := openStore(t, e, "O")
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	a, _, err := s.Account("A")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := s.Account("B")
	if err != nil {
		t.Fatal(err)
	}
	// handMade stores a user of A that signet would not sign: signer is an account key of A,
	// issuerAccount its issuer_account.
	handMade := func(name, signer, issuerAccount string, bearer bool) {
		t.Helper()
		skp, err := ks.Get(signer)
		if err != nil {
			t.Fatal(err)
		}
		ukp, _ := nkeys.CreateUser()
		upub, _ := ukp.PublicKey()
		seed, _ := ukp.Seed()
		uc := jwt.NewUserClaims(upub)
		uc.Name, uc.IssuerAccount, uc.BearerToken = name, issuerAccount, bearer
		tok, err := uc.Encode(skp)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SaveUser("A", name, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := ks.WriteCreds("O", "A", name, tok, seed); err != nil {
			t.Fatal(err)
		}
	}
	handMade("stray", ops.RoleKey(a, "svc"), b.Subject, false)
	handMade("strayown", a.Subject, b.Subject, true)

	admits(t, s, ks, "A allows bearer tokens", map[string]bool{"plain": true, "stray": false, "strayown": false})

	validate := func() string {
		t.Helper()
		r := e.Run("validate", "-a", "A")
		if r.Error == nil {
			t.Fatalf("validate -a A passed with users whose issuer_account is B:\n%s%s", r.Out, r.Err)
		}
		return r.Out + r.Err + r.Error.Error()
	}
	out := validate()
	mustContain(t, out, "A/stray", "A/strayown", "issuer_account")
	mustNotContain(t, out, "A/plain")

	// stray and strayown are no bearer users of A: nothing stops --disallow-bearer.
	e.MustRun("edit", "account", "A", "--disallow-bearer")
	out = validate()
	mustContain(t, out, "A/stray", "A/strayown", "issuer_account")
	mustNotContain(t, out, "A/plain", "disallows bearer tokens")
	admits(t, s, ks, "A disallows bearer tokens", map[string]bool{"plain": true, "stray": false, "strayown": false})
}
