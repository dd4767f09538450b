package signing_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/keystore"
)

func credsJWT(t *testing.T, e interface{ KeysDir() string }, acc, name string) string {
	t.Helper()
	data, err := os.ReadFile(keystore.KeyStore{Dir: e.KeysDir()}.CredsPath("O", acc, name))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseDecoratedJWT(data)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRotateAccountSigningKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.MustRunStatus("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "service", "--allow-sub", "q.>")
	old := quoted(t, out, "added signing key")
	for _, u := range []string{"U1", "U2", "R"} {
		e.MustRun("add", "user", u, "-a", "A", "-K", "service")
	}
	e.MustRun("add", "user", "plain", "-a", "A")
	e.MustRun("revocations", "add-user", "-a", "A", "-n", "R")
	plainBefore := user(t, e, "A", "plain")

	out = e.MustRunStatus("rotate", "signing-key", "-a", "A", "--old", "service")
	ac := account(t, e, "A")
	if ac.SigningKeys.Contains(old) {
		t.Errorf("old key still on the account")
	}
	keys := ac.SigningKeys.Keys()
	if len(keys) != 1 {
		t.Fatalf("signing keys after rotation: %v", keys)
	}
	newKey := keys[0]
	us := userScope(t, ac, newKey)
	if us.Role != "service" || !us.Template.Sub.Allow.Contains("q.>") {
		t.Errorf("new key did not inherit the scope: %+v", us)
	}
	if !(keystore.KeyStore{Dir: e.KeysDir()}).Has(newKey) {
		t.Error("new key not stored")
	}
	for _, u := range []string{"U1", "U2", "R"} {
		uc := user(t, e, "A", u)
		if uc.Issuer != newKey || !uc.HasEmptyPermissions() {
			t.Errorf("user %s issuer %s scoped %v", u, uc.Issuer, uc.HasEmptyPermissions())
		}
		if !strings.Contains(out, "re-issued user \""+u+"\"") {
			t.Errorf("output does not report %s:\n%s", u, out)
		}
		tok, _ := openStore(t, e).UserJWT("A", u)
		if credsJWT(t, e, "A", u) != tok {
			t.Errorf("creds of %s not regenerated", u)
		}
	}
	if got := user(t, e, "A", "plain"); got.ID != plainBefore.ID {
		t.Error("a user signed by the account key was re-issued")
	}
	if !ac.IsClaimRevoked(user(t, e, "A", "R")) {
		t.Error("re-issuing a revoked user un-revoked it")
	}
	if ac.IsClaimRevoked(user(t, e, "A", "U1")) {
		t.Error("U1 revoked")
	}
	if _, err := os.Stat(filepath.Join(openStore(t, e).Dir, ".signet", "rotations")); err == nil {
		entries, _ := os.ReadDir(filepath.Join(openStore(t, e).Dir, ".signet", "rotations"))
		if len(entries) != 0 {
			t.Errorf("journal left behind: %v", entries)
		}
	}
	if msg := e.MustFail("rotate", "signing-key", "-a", "A", "--old", old); !strings.Contains(msg, "nothing to rotate") {
		t.Errorf("second rotation of a removed key: %s", msg)
	}
}

func TestRotateResumesAfterInterruption(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.MustRunStatus("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "svc", "--allow-pub", "x.>")
	old := quoted(t, out, "added signing key")
	for _, u := range []string{"U1", "U2", "U3"} {
		e.MustRun("add", "user", u, "-a", "A", "-K", "svc")
	}
	// A damaged user JWT stops the rotation half-way (listed before it was damaged, the users'
	// names and keys come from the store's users journal: the rotation gets to re-sign them).
	e.MustRun("list", "users", "-a", "A")
	s := openStore(t, e)
	p := s.UserPath("A", "U2")
	good := readFile(t, p)
	if err := os.WriteFile(p, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.Run("rotate", "signing-key", "-a", "A", "--old", "svc")
	if r.Error == nil {
		t.Fatal("rotation over a damaged user JWT did not stop")
	}
	// It says what it did before it stopped: the new key added, the users re-issued.
	if !strings.Contains(r.Err, "added signing key") {
		t.Errorf("the stopped rotation does not say it added the new key:\n%s", r.Err)
	}
	for _, u := range []string{"U1", "U3"} {
		if !strings.Contains(r.Err, `re-issued user "`+u+`"`) {
			t.Errorf("the stopped rotation does not list %s:\n%s", u, r.Err)
		}
	}
	if strings.Contains(r.Err, `re-issued user "U2"`) {
		t.Errorf("the stopped rotation lists U2, which it could not re-issue:\n%s", r.Err)
	}
	ac := account(t, e, "A")
	if !ac.SigningKeys.Contains(old) || len(ac.SigningKeys) != 2 {
		t.Fatalf("after the interruption the account should list old and new keys: %v", ac.SigningKeys.Keys())
	}
	newKey := ""
	for _, k := range ac.SigningKeys.Keys() {
		if k != old {
			newKey = k
		}
	}
	// Every user is signed by a key the account lists.
	for _, u := range []string{"U1", "U3"} {
		if iss := user(t, e, "A", u).Issuer; !ac.SigningKeys.Contains(iss) {
			t.Errorf("user %s signed by %s, not on the account", u, iss)
		}
	}
	journal := filepath.Join(s.Dir, ".signet", "rotations", old+".json")
	pending := readFile(t, journal)
	// Resuming with another --new is refused.
	other, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	otherSeed, _ := other.Seed()
	if msg := e.MustFail("rotate", "signing-key", "-a", "A", "--old", "svc", "--new", string(otherSeed)); !strings.Contains(msg, "in progress") {
		t.Errorf("resume with another key: %s", msg)
	}
	if err := os.WriteFile(p, good, 0o600); err != nil {
		t.Fatal(err)
	}
	e.MustRun("rotate", "signing-key", "-a", "A", "--old", "svc")
	check := func() {
		t.Helper()
		ac := account(t, e, "A")
		if keys := ac.SigningKeys.Keys(); !slices.Equal(keys, []string{newKey}) {
			t.Fatalf("signing keys after resuming: %v, want [%s]", keys, newKey)
		}
		if us := userScope(t, ac, newKey); us.Role != "svc" || !us.Template.Pub.Allow.Contains("x.>") {
			t.Errorf("new key scope: %+v", us)
		}
		for _, u := range []string{"U1", "U2", "U3"} {
			if iss := user(t, e, "A", u).Issuer; iss != newKey {
				t.Errorf("user %s issuer %s, want %s", u, iss, newKey)
			}
		}
	}
	check()
	// Interrupted after the old key went but before the journal was cleared: the role now
	// names the new key, and the rerun finishes the same rotation instead of starting another.
	if err := os.WriteFile(journal, pending, 0o600); err != nil {
		t.Fatal(err)
	}
	e.MustRun("rotate", "signing-key", "-a", "A", "--old", "svc")
	check()
	if _, err := os.Stat(journal); err == nil {
		t.Error("journal left behind")
	}
}

func TestRotateOperatorSigningKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.MustRunStatus("edit", "operator", "--sk", "generate")
	old := quoted(t, out, "added signing key")
	e.MustRun("add", "account", "B", "-K", old)
	e.MustRun("add", "account", "C", "-K", old)
	aBefore := account(t, e, "A")

	out = e.MustRunStatus("rotate", "signing-key", "--operator", "--old", old)
	oc, _, err := openStore(t, e).Operator()
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(oc.SigningKeys, old) || len(oc.SigningKeys) != 1 {
		t.Fatalf("operator signing keys: %v", oc.SigningKeys)
	}
	for _, n := range []string{"B", "C"} {
		if iss := account(t, e, n).Issuer; iss != oc.SigningKeys[0] {
			t.Errorf("account %s issuer %s", n, iss)
		}
		if !strings.Contains(out, "re-issued account \""+n+"\"") {
			t.Errorf("output lacks %s:\n%s", n, out)
		}
	}
	if account(t, e, "A").ID != aBefore.ID {
		t.Error("account A (signed by the identity key) was re-issued")
	}
	if msg := e.MustFail("rotate", "signing-key", "--operator", "--old", oc.Subject); !strings.Contains(msg, "identity") {
		t.Errorf("rotating the identity key: %s", msg)
	}
}
