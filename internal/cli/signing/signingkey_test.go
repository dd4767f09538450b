package signing_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// newEnv makes an environment with operator O (with a system account) and account A.
func newEnv(t *testing.T) *clitest.Env {
	t.Helper()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys")
	e.MustRun("add", "account", "A")
	return e
}

func openStore(t *testing.T, e *clitest.Env) *store.Store {
	t.Helper()
	stores := store.Stores{Dir: e.StoresDir()}
	ops, err := stores.Operators()
	if err != nil || len(ops) != 1 {
		t.Fatalf("operators %v: %v", ops, err)
	}
	s, err := stores.Open(ops[0])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func account(t *testing.T, e *clitest.Env, name string) *jwt.AccountClaims {
	t.Helper()
	ac, _, err := openStore(t, e).Account(name)
	if err != nil {
		t.Fatal(err)
	}
	return ac
}

func user(t *testing.T, e *clitest.Env, acc, name string) *jwt.UserClaims {
	t.Helper()
	uc, _, err := openStore(t, e).User(acc, name)
	if err != nil {
		t.Fatal(err)
	}
	return uc
}

func userScope(t *testing.T, ac *jwt.AccountClaims, pub string) *jwt.UserScope {
	t.Helper()
	sc, ok := ac.SigningKeys.GetScope(pub)
	if !ok || sc == nil {
		t.Fatalf("signing key %s of %q is not scoped (keys %v)", pub, ac.Name, ac.SigningKeys.Keys())
	}
	us, ok := sc.(*jwt.UserScope)
	if !ok {
		t.Fatalf("scope of %s is %T", pub, sc)
	}
	return us
}

// quoted returns the first "..."-quoted word after prefix in out.
func quoted(t *testing.T, out, prefix string) string {
	t.Helper()
	i := strings.Index(out, prefix+` "`)
	if i < 0 {
		t.Fatalf("no %q in output:\n%s", prefix, out)
	}
	rest := out[i+len(prefix)+2:]
	return rest[:strings.Index(rest, `"`)]
}

func TestEditSigningKeySeedOutput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.MustRunStatus("edit", "account", "-n", "A", "--sk", "generate")
	sk := quoted(t, out, "added signing key")
	out = e.MustRunStatus("edit", "signing-key", "--account", "A", "--role", "service", "--sk", sk,
		"--allow-sub", "q.>", "--deny-pub", ">", "--allow-pub-response")
	want := "[ OK ] set max responses to 1\n[ OK ] added deny pub \">\"\n[ OK ] added sub \"q.>\"\n"
	if !strings.Contains(out, want) {
		t.Errorf("output lacks the seed's lines %q:\n%s", want, out)
	}
	if !strings.HasSuffix(out, "[ OK ] edited signing key \""+sk+"\"\n") {
		t.Errorf("output does not end with edited signing key:\n%s", out)
	}
	us := userScope(t, account(t, e, "A"), sk)
	if us.Role != "service" || us.Key != sk {
		t.Errorf("scope role/key = %q/%q", us.Role, us.Key)
	}
	if us.Template.Resp == nil || us.Template.Resp.MaxMsgs != 1 {
		t.Errorf("resp = %+v", us.Template.Resp)
	}
	if !us.Template.Sub.Allow.Contains("q.>") || !us.Template.Pub.Deny.Contains(">") {
		t.Errorf("template = %+v", us.Template.Permissions)
	}

	// The key can be named by its role from now on.
	out = e.MustRunStatus("edit", "signing-key", "-a", "A", "--sk", "service", "--description", "answers q")
	if !strings.Contains(out, "edited signing key \""+sk+"\"") {
		t.Errorf("editing by role: %s", out)
	}
	if got := userScope(t, account(t, e, "A"), sk).Description; got != "answers q" {
		t.Errorf("description = %q", got)
	}

	// add user -K service: scoped, no permissions of its own.
	e.MustRun("add", "user", "U", "-a", "A", "-K", "service")
	uc := user(t, e, "A", "U")
	if uc.Issuer != sk || uc.IssuerAccount != account(t, e, "A").Subject {
		t.Errorf("user issuer %s / issuer account %s", uc.Issuer, uc.IssuerAccount)
	}
	if !uc.HasEmptyPermissions() {
		t.Errorf("scoped user carries permissions: %+v", uc.Permissions)
	}

	// Permission flags with a scoped key: an error that names the conflict.
	msg := e.MustFail("add", "user", "V", "-a", "A", "-K", "service", "--allow-pub", "x")
	if !strings.Contains(msg, "scoped") || !strings.Contains(msg, sk) {
		t.Errorf("conflict error does not name the scoped key: %s", msg)
	}
}

// TestEditSigningKeyWithOnlyTheKeyResignsTheAccountAsNscDoes: `edit signing-key -a A --sk K`
// with no other flag exits 0 and re-signs the account, as nsc does: an unscoped key becomes
// scoped (a template that allows everything, until edited), and a scoped key, named by its
// role, keeps its scope as it was.
func TestEditSigningKeyWithOnlyTheKeyResignsTheAccountAsNscDoes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sk := quoted(t, e.MustRunStatus("edit", "account", "A", "--sk", "generate"), "added signing key")
	s := openStore(t, e)
	resigns := func(args ...string) {
		t.Helper()
		before, err := s.AccountJWT("A")
		if err != nil {
			t.Fatal(err)
		}
		if out := e.MustRunStatus(args...); !strings.Contains(out, `edited signing key "`+sk+`"`) {
			t.Errorf("signet %s: %s", strings.Join(args, " "), out)
		}
		if after, err := s.AccountJWT("A"); err != nil || after == before {
			t.Errorf("signet %s did not re-sign account A (%v)", strings.Join(args, " "), err)
		}
	}
	resigns("edit", "signing-key", "-a", "A", "--sk", sk)
	us := userScope(t, account(t, e, "A"), sk)
	if us.Template.Subs != jwt.NoLimit || us.Template.Data != jwt.NoLimit || us.Template.Payload != jwt.NoLimit ||
		len(us.Template.Pub.Allow)+len(us.Template.Pub.Deny)+len(us.Template.Sub.Allow)+len(us.Template.Sub.Deny) != 0 {
		t.Errorf("scope made from an unscoped key: %+v", us)
	}

	e.MustRun("edit", "signing-key", "-a", "A", "--sk", sk, "--role", "svc", "--allow-pub", "svc.>")
	was := *userScope(t, account(t, e, "A"), sk)
	resigns("edit", "signing-key", "-a", "A", "svc")
	if now := userScope(t, account(t, e, "A"), sk); now.Role != "svc" || !slices.Equal(now.Template.Pub.Allow, was.Template.Pub.Allow) || now.Template.Subs != was.Template.Subs {
		t.Errorf("scope changed by an edit naming only the key: %+v, was %+v", now, was)
	}
}

// TestAnUnscopedKeyThatSignsUsersIsNotMadeScoped: the users an unscoped signing key signed carry
// permissions and limits of their own, which nats-server refuses in a user of a scoped key: making
// the key scoped would lock them all out. The edit is refused, naming them, with or without a
// scope given, and changes nothing; once they are signed by another key, it goes through.
func TestAnUnscopedKeyThatSignsUsersIsNotMadeScoped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sk := quoted(t, e.MustRunStatus("edit", "account", "A", "--sk", "generate"), "added signing key")
	e.MustRun("add", "user", "u", "-a", "A", "-K", sk, "--allow-pub", "foo", "--allow-sub", "foo")
	s := openStore(t, e)
	before, err := s.AccountJWT("A")
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--sk", sk}, {"--sk", sk, "--allow-pub", "foo"}, {"--sk", sk, "--role", "svc"}} {
		msg := e.MustFail(append([]string{"edit", "signing-key", "-a", "A"}, args...)...)
		if !strings.Contains(msg, `"u"`) || !strings.Contains(msg, "refuses them") {
			t.Errorf("edit signing-key %v: refusal does not name the user and why: %s", args, msg)
		}
	}
	if after, _ := s.AccountJWT("A"); after != before {
		t.Error("a refused edit changed the account")
	}
	if sc, ok := account(t, e, "A").SigningKeys.GetScope(sk); !ok || sc != nil {
		t.Errorf("key scoped by a refused edit: %+v", sc)
	}
	e.MustRun("edit", "user", "u", "-a", "A", "-K", account(t, e, "A").Subject)
	e.MustRun("edit", "signing-key", "-a", "A", "--sk", sk, "--allow-pub", "foo")
	if us := userScope(t, account(t, e, "A"), sk); !slices.Equal(us.Template.Pub.Allow, []string{"foo"}) {
		t.Errorf("scope %+v", us)
	}
}

func TestEditSigningKeyGenerateRoleAndErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.MustRunStatus("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "team-service",
		"--allow-sub", "{{account-name()}}.{{tag(team)}}.{{name()}}.>", "--allow-pub-response")
	sk := quoted(t, out, "added signing key")
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	if !ks.Has(sk) {
		t.Errorf("generated key %s not stored", sk)
	}
	us := userScope(t, account(t, e, "A"), sk)
	if us.Role != "team-service" || !us.Template.Sub.Allow.Contains("{{account-name()}}.{{tag(team)}}.{{name()}}.>") {
		t.Errorf("scope = %+v", us)
	}

	// A second key cannot take the same role.
	msg := e.MustFail("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "team-service", "--allow-pub", "x")
	if !strings.Contains(msg, "already has that role") {
		t.Errorf("duplicate role: %s", msg)
	}
	if n := len(account(t, e, "A").SigningKeys); n != 1 {
		t.Errorf("failed edit left %d signing keys", n)
	}
	// The identity key is not a signing key.
	msg = e.MustFail("edit", "signing-key", "-a", "A", "--sk", account(t, e, "A").Subject, "--role", "x")
	if !strings.Contains(msg, "identity key") {
		t.Errorf("identity key: %s", msg)
	}
	// A template that can never expand is warned about.
	r := e.Run("edit", "signing-key", "-a", "A", "--sk", "team-service", "--allow-pub", "{{nope()}}.x")
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	if !strings.Contains(r.Err, "[WARN]") || !strings.Contains(r.Err, "nope()") {
		t.Errorf("no warning for unknown template function; stderr:\n%s", r.Err)
	}
	// Limits go into the template too.
	e.MustRun("edit", "signing-key", "-a", "A", "--sk", "team-service", "--subs", "10", "--payload", "1K", "--bearer")
	us = userScope(t, account(t, e, "A"), sk)
	if us.Template.Subs != 10 || us.Template.Payload != 1000 || !us.Template.BearerToken {
		t.Errorf("limits: subs %d payload %d bearer %v", us.Template.Subs, us.Template.Payload, us.Template.BearerToken)
	}
}

func TestRequireSigningKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "user", "u", "-a", "A")
	// A signs its user with its identity key and has no signing key to re-sign it with: the
	// edit is refused, naming it, and nothing changes. SYS (its user signed by its signing key,
	// as nsc makes it) needs nothing and is not named.
	before := storeFiles(t, e)
	msg := e.MustFail("edit", "operator", "--sk", "generate", "--require-signing-keys")
	for _, want := range []string{`user "u" of account "A"`, "signet edit account A --sk generate", "nothing was changed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal does not say %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, `account "SYS"`) {
		t.Errorf("refusal names SYS, whose user is signed by its signing key:\n%s", msg)
	}
	after := storeFiles(t, e)
	for p := range mergeKeys(before, after) {
		if before[p] != after[p] {
			t.Errorf("a refused --require-signing-keys changed %s", p)
		}
	}
	// With account signing keys, every JWT an identity key signed is re-signed.
	e.MustRun("edit", "account", "SYS", "--sk", "generate")
	e.MustRun("edit", "account", "A", "--sk", "generate")
	out := e.MustRunStatus("edit", "operator", "--sk", "generate", "--require-signing-keys")
	sk := quoted(t, out, "added signing key")
	s := openStore(t, e)
	oc, _, err := s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	if !oc.StrictSigningKeyUsage {
		t.Fatal("strict signing key usage not set")
	}
	for _, name := range []string{"SYS", "A"} {
		ac := account(t, e, name)
		if ac.Issuer != sk {
			t.Errorf("account %s issued by %s after --require-signing-keys, want signing key %s", name, ac.Issuer, sk)
		}
		users, err := s.ListUsers(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			uc, _, err := s.User(name, u.Name)
			if err != nil {
				t.Fatal(err)
			}
			if uc.Issuer == ac.Subject || !ac.SigningKeys.Contains(uc.Issuer) {
				t.Errorf("user %s of %s issued by %s, want one of the account's signing keys", u.Name, name, uc.Issuer)
			}
		}
	}
	// The keystore holds the signing key, so signing picks it without -K.
	e.MustRun("add", "account", "B")
	if iss := account(t, e, "B").Issuer; iss != sk {
		t.Errorf("account B issued by %s, want signing key %s", iss, sk)
	}
	// Asking for the identity key is refused, naming the keys to pass.
	msg = e.MustFail("add", "account", "C", "-K", oc.Subject)
	if !strings.Contains(msg, "requires signing keys") || !strings.Contains(msg, sk) {
		t.Errorf("identity key refusal: %s", msg)
	}
	msg = e.MustFail("revocations", "add-user", "-a", "A", "-u", "*", "-K", oc.Subject)
	if !strings.Contains(msg, sk) {
		t.Errorf("revocation with identity key: %s", msg)
	}
	// Without the signing key's seed, the error says which key is needed.
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	if err := ks.Remove(sk); err != nil {
		t.Fatal(err)
	}
	msg = e.MustFail("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "r", "--allow-pub", "x")
	if !strings.Contains(msg, sk) || !strings.Contains(msg, "-K") {
		t.Errorf("missing signing key: %s", msg)
	}
}

// storeFiles maps every file under the environment's home (stores, keys, creds) to its content,
// leaving out signet's own caches under .signet (a listing may refresh them).
func storeFiles(t *testing.T, e *clitest.Env) map[string]string {
	t.Helper()
	files := clitest.Snapshot(t, e.Home)
	maps.DeleteFunc(files, func(p, _ string) bool { return strings.Contains(p, "/.signet/") })
	return files
}

func mergeKeys(a, b map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
