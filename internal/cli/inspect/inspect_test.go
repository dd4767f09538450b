package inspect_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// newEnv makes an environment with operator O, accounts O and SYS, users O and sys.
func newEnv(t *testing.T) *clitest.Env {
	t.Helper()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	return e
}

func openStore(t *testing.T, e *clitest.Env, name string) *store.Store {
	t.Helper()
	s, err := store.Stores{Dir: e.StoresDir()}.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustContain(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func mustNotContain(t *testing.T, out string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(out, b) {
			t.Errorf("output holds %q:\n%s", b, out)
		}
	}
}

func decodeJSON(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
}

func TestDescribeOperator(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := openStore(t, e, "O")
	oc, tok, err := s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	sysName, err := s.FindAccount(oc.SystemAccount)
	if err != nil || sysName != "SYS" {
		t.Fatalf("system account: %q, %v", sysName, err)
	}

	out := e.MustRun("describe", "operator")
	mustContain(t, out, "Operator Details", "Operator ID", oc.Subject, "System Account", "SYS ("+oc.SystemAccount+")", "Require Signing Keys")

	byKey := e.MustRun("describe", "operator", oc.Subject)
	if byKey != out {
		t.Errorf("describe by public key differs from describe by current:\n%s\n%s", byKey, out)
	}
	if got := e.MustRun("describe", "operator", "-n", "O"); got != out {
		t.Errorf("describe -n O differs:\n%s", got)
	}

	var claims jwt.OperatorClaims
	decodeJSON(t, e.MustRun("describe", "operator", "--json"), &claims)
	if claims.Subject != oc.Subject || claims.Name != "O" || claims.SystemAccount != oc.SystemAccount {
		t.Errorf("JSON claims: %+v", claims)
	}
	// -F prints JSON, as nsc does: a string is quoted.
	if got := strings.TrimSpace(e.MustRun("describe", "operator", "-F", "sub")); got != strconv.Quote(oc.Subject) {
		t.Errorf("-F sub = %q, want %q", got, oc.Subject)
	}
	if got := strings.TrimSpace(e.MustRun("describe", "operator", "--field", "nats.system_account")); got != strconv.Quote(oc.SystemAccount) {
		t.Errorf("-F nats.system_account = %q", got)
	}
	if got := strings.TrimSpace(e.MustRun("describe", "operator", "-R")); got != tok {
		t.Errorf("-R = %q, want the stored JWT", got)
	}

	msg := e.MustFail("describe", "operator", "nope")
	mustContain(t, msg, `operator "nope" not found`, "signet list operators")
	other, _ := nkeys.CreateOperator()
	otherPub, _ := other.PublicKey()
	mustContain(t, e.MustFail("describe", "operator", otherPub), "no operator with public key "+otherPub)
	// nsc's precedence: -R wins over --json; an absent field is null.
	if got := strings.TrimSpace(e.MustRun("describe", "operator", "--json", "-R")); got != tok {
		t.Errorf("--json -R = %q, want the stored JWT", got)
	}
	if got := strings.TrimSpace(e.MustRun("describe", "operator", "-F", "nats.nope")); got != "null" {
		t.Errorf("-F nats.nope = %q, want null", got)
	}
	mustContain(t, e.MustFail("describe", "operator", "-F", "nats.nope.deeper"), `"nats.nope" is null`)
}

func TestDescribeAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("edit", "account", "O", "--sk", "generate", "--conns", "10", "--js-mem-storage", "1M", "--js-disk-storage", "1G")
	s := openStore(t, e, "O")
	ac, tok, err := s.Account("O")
	if err != nil {
		t.Fatal(err)
	}
	sk := ac.SigningKeys.Keys()
	if len(sk) != 1 {
		t.Fatalf("signing keys: %v", sk)
	}
	out := e.MustRun("describe", "account", "O")
	mustContain(t, out, "Account Details", ac.Subject, sk[0], "Max Connections", "10",
		"Max Leaf Node Connections", "Unlimited", "JetStream", "Enabled", "Max Memory Storage", "1000000 (976.6 KiB)")
	// name, public key and -n all name the same account
	if got := e.MustRun("describe", "account", ac.Subject); got != out {
		t.Errorf("describe by public key differs:\n%s", got)
	}
	if got := e.MustRun("describe", "account", "-n", "O"); got != out {
		t.Errorf("describe -n differs:\n%s", got)
	}
	if got := strings.TrimSpace(e.MustRun("describe", "account", "O", "-F", "nats.limits.conn")); got != "10" {
		t.Errorf("-F nats.limits.conn = %q", got)
	}
	if got := strings.TrimSpace(e.MustRun("describe", "account", "O", "-F", "nats.limits.leaf")); got != "-1" {
		t.Errorf("-F nats.limits.leaf = %q", got)
	}
	if got := strings.TrimSpace(e.MustRun("describe", "account", "O", "-F", "nats.signing_keys.0")); got != strconv.Quote(sk[0]) {
		t.Errorf("-F nats.signing_keys.0 = %q", got)
	}
	var claims jwt.AccountClaims
	decodeJSON(t, e.MustRun("describe", "account", "O", "--json"), &claims)
	if claims.Subject != ac.Subject || claims.Limits.Conn != 10 {
		t.Errorf("JSON claims: %+v", claims)
	}
	if got := strings.TrimSpace(e.MustRun("describe", "account", "O", "-R")); got != tok {
		t.Errorf("-R differs from the stored JWT")
	}
	msg := e.MustFail("describe", "account", "nope")
	mustContain(t, msg, `account "nope"`, "not found", "signet list accounts")
}

func TestDescribeUserAndJWT(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "user", "alice", "-a", "O", "--allow-pub", "a.>", "--deny-sub", "secret", "--allow-pub-response", "--conn-type", "WEBSOCKET")
	s := openStore(t, e, "O")
	uc, tok, err := s.User("O", "alice")
	if err != nil {
		t.Fatal(err)
	}
	out := e.MustRun("describe", "user", "alice", "-a", "O")
	mustContain(t, out, "User ID", uc.Subject, "Pub Allow", "a.>", "Sub Deny", "secret", "Response Permissions", "1 response,", "WEBSOCKET")
	// by public key, without naming the account
	if got := e.MustRun("describe", "user", uc.Subject); got != out {
		t.Errorf("describe by public key differs:\n%s", got)
	}

	// -R round-trips through describe jwt.
	raw := strings.TrimSpace(e.MustRun("describe", "user", "alice", "-a", "O", "-R"))
	if raw != tok {
		t.Fatalf("-R differs from the stored JWT")
	}
	file := filepath.Join(t.TempDir(), "alice.jwt")
	if err := os.WriteFile(file, []byte(raw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fromUser := e.MustRun("describe", "user", "alice", "-a", "O", "--json")
	if got := e.MustRun("describe", "jwt", "-f", file, "--json"); got != fromUser {
		t.Errorf("describe jwt --json differs from describe user --json:\n%s\n%s", got, fromUser)
	}
	if got := e.MustRun("describe", "jwt", "-f", file); got != out {
		t.Errorf("describe jwt table differs from describe user:\n%s", got)
	}

	// A creds file gives the JWT and never the seed.
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	creds := ks.CredsPath("O", "O", "alice")
	seed := seedOf(t, ks, uc.Subject)
	for _, args := range [][]string{{"-f", creds}, {"-f", creds, "--json"}} {
		got := e.MustRun(append([]string{"describe", "jwt"}, args...)...)
		mustContain(t, got, uc.Subject)
		mustNotContain(t, got, seed)
	}
	if got := strings.TrimSpace(e.MustRun("describe", "jwt", "-f", creds, "-R")); got != tok {
		t.Errorf("describe jwt -R of the creds file = %q, want the user JWT", got)
	}
	if got := strings.TrimSpace(e.MustRun("describe", "jwt", "-f", creds, "-F", "nats.pub.allow")); got != `["a.\u003e"]` {
		t.Errorf("-F nats.pub.allow = %q", got)
	}
	// An account JWT file is described as an account.
	acTok, _ := s.AccountJWT("O")
	acFile := filepath.Join(t.TempDir(), "a.jwt")
	if err := os.WriteFile(acFile, []byte(acTok), 0o600); err != nil {
		t.Fatal(err)
	}
	mustContain(t, e.MustRun("describe", "jwt", "-f", acFile), "Account Details")

	mustContain(t, e.MustFail("describe", "user", "bob", "-a", "O"), `user "bob"`, "not found", "signet list users")
	mustContain(t, e.MustFail("describe", "user"), "has 2 users")
	mustContain(t, e.MustFail("describe", "jwt"), "-f FILE")
	mustContain(t, e.MustFail("describe", "jwt", "-f", filepath.Join(t.TempDir(), "missing")), "read JWT file")
	junk := filepath.Join(t.TempDir(), "junk")
	if err := os.WriteFile(junk, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustContain(t, e.MustFail("describe", "jwt", "-f", junk), "holds no JWT")
	// A JWT with a broken signature is refused.
	parts := strings.Split(tok, ".")
	bad := parts[0] + "." + parts[1] + ".AAAA" + parts[2][4:]
	if err := os.WriteFile(junk, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	mustContain(t, e.MustFail("describe", "jwt", "-f", junk), "decode JWT")
}

func seedOf(t *testing.T, ks keystore.KeyStore, pub string) string {
	t.Helper()
	kp, err := ks.Get(pub)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := kp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	return string(seed)
}

// addScope adds a scoped signing key with the given role and sub allow list to an account,
// re-signed with the operator key (what `edit signing-key` does).
func addScope(t *testing.T, e *clitest.Env, account, role string, subAllow ...string) string {
	t.Helper()
	kp, _ := nkeys.CreateAccount()
	pub, _ := kp.PublicKey()
	if _, err := (keystore.KeyStore{Dir: e.KeysDir()}).Store(kp); err != nil {
		t.Fatal(err)
	}
	scope := jwt.NewUserScope()
	scope.Key = pub
	scope.Role = role
	scope.Description = role + " users"
	for _, sub := range subAllow {
		scope.Template.Sub.Allow.Add(sub)
	}
	scope.Template.Resp = &jwt.ResponsePermission{MaxMsgs: 1}
	resign(t, e, account, func(ac *jwt.AccountClaims) { ac.SigningKeys.AddScopedSigner(scope) })
	return pub
}

func TestDescribeScopedUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "account", "sales")
	key := addScope(t, e, "sales", "team-service", "{{account-name()}}.{{tag(team)}}.{{name()}}.>")
	e.MustRun("add", "user", "pam", "-a", "sales", "-K", "team-service", "--tag", "team:support")
	e.MustRun("add", "user", "joe", "-a", "sales", "-K", "team-service", "--tag", "team:leads", "--tag", "team:ops")

	acct := e.MustRun("describe", "account", "sales")
	mustContain(t, acct, "Scoped Signing Key", key, "team-service", "team-service users",
		"{{account-name()}}.{{tag(team)}}.{{name()}}.>")

	pam := e.MustRun("describe", "user", "pam", "-a", "sales")
	mustContain(t, pam, "Scoped", `Yes (role "team-service")`, "Issuer Account", `Effective Permissions (scoped key role "team-service")`,
		"sales.support.pam.>", "1 response,")
	mustNotContain(t, pam, "{{", "sales.leads")
	// Several tag values give every combination, in the server's order.
	joe := e.MustRun("describe", "user", "joe", "-a", "sales")
	mustContain(t, joe, "sales.leads.joe.>", "sales.ops.joe.>")
	mustNotContain(t, joe, "support")
	// The stored user carries no permissions: --json shows the JWT, not the expansion.
	var uc jwt.UserClaims
	decodeJSON(t, e.MustRun("describe", "user", "pam", "-a", "sales", "--json"), &uc)
	if len(uc.Sub.Allow) != 0 || uc.IssuerAccount == "" {
		t.Errorf("scoped user JSON: %+v", uc.User)
	}

	// An allow entry whose tag is missing is dropped and an empty allow list denies all.
	e.MustRun("add", "user", "nobody", "-a", "sales", "-K", "team-service")
	nobody := e.MustRun("describe", "user", "nobody", "-a", "sales")
	mustContain(t, nobody, "Warnings", "dropped", "Sub Deny", ">")

	// An unknown template function is reported as the error that refuses the connection.
	addScope(t, e, "sales", "broken", "{{nope()}}.>")
	e.MustRun("add", "user", "bad", "-a", "sales", "-K", "broken")
	bad := e.MustRun("describe", "user", "bad", "-a", "sales")
	mustContain(t, bad, "Expansion Error", "refuses the connection", `"nope()" is not defined`, "Template Sub Allow", "{{nope()}}.>")

	// validate reports it as blocking and exits non-zero.
	r := e.Run("validate", "-a", "sales")
	var exit *cmdutil.ExitError
	if !errors.As(r.Error, &exit) || exit.Code != 1 {
		t.Fatalf("validate: want exit 1, got %v\n%s", r.Error, r.Out)
	}
	mustContain(t, r.Out, "sales/bad", "error", "nope()")
	mustContain(t, r.Out, "sales/nobody", "warning")
	mustContain(t, r.Err, "1 blocking issue")
}

// A user JWT with every limit, signed by the account key, rendered by describe jwt.
func TestDescribeJWTUserLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := openStore(t, e, "O")
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	ac, _, err := s.Account("O")
	if err != nil {
		t.Fatal(err)
	}
	akp, err := ks.Get(ac.Subject)
	if err != nil {
		t.Fatal(err)
	}
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	uc := jwt.NewUserClaims(upub)
	uc.Name = "limited"
	uc.Src.Add("10.0.0.0/8")
	uc.Times = []jwt.TimeRange{{Start: "08:00:00", End: "17:00:00"}}
	uc.Locale = "UTC"
	uc.Subs = 5
	uc.NatsLimits.Payload = 2048
	uc.BearerToken = true
	uc.Resp = &jwt.ResponsePermission{MaxMsgs: 3, Expires: time.Minute}
	uc.Tags.Add("team:b", "team:a")
	tok, err := uc.Encode(akp)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "u.jwt")
	if err := os.WriteFile(file, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	out := e.MustRun("describe", "jwt", "-f", file)
	mustContain(t, out, "limited", upub, "10.0.0.0/8", "08:00:00-17:00:00", "Time Zone", "UTC",
		"Max Subscriptions", "5", "2048 (2.0 KiB)", "Bearer Token", "Yes", "3 responses, expires 1m0s")
	// tags are sorted
	if a, b := strings.Index(out, "team:a"), strings.Index(out, "team:b"); a < 0 || b < a {
		t.Errorf("tags not sorted:\n%s", out)
	}
	if got := strings.TrimSpace(e.MustRun("describe", "jwt", "-f", file, "-F", "nats.subs")); got != "5" {
		t.Errorf("-F nats.subs = %q", got)
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "user", "bob", "-a", "O")
	e.MustRun("edit", "account", "O", "--sk", "generate")
	s := openStore(t, e, "O")
	oc, _, _ := s.Operator()
	ac, _, _ := s.Account("O")
	sys, _, _ := s.Account("SYS")

	var ops []store.NamedKey
	decodeJSON(t, e.MustRun("list", "operators", "--json"), &ops)
	if len(ops) != 1 || ops[0].Name != "O" || ops[0].PublicKey != oc.Subject {
		t.Errorf("list operators: %+v", ops)
	}
	mustContain(t, e.MustRun("list", "operators"), "Operators", "O", oc.Subject)

	var accts []store.NamedKey
	decodeJSON(t, e.MustRun("list", "accounts", "--json"), &accts)
	want := []store.NamedKey{{Name: "O", PublicKey: ac.Subject}, {Name: "SYS", PublicKey: sys.Subject}}
	if len(accts) != 2 || accts[0] != want[0] || accts[1] != want[1] {
		t.Errorf("list accounts: %+v, want %+v", accts, want)
	}

	var users []store.NamedKey
	decodeJSON(t, e.MustRun("list", "users", "-a", "O", "--json"), &users)
	bob, _, _ := s.User("O", "bob")
	if len(users) != 2 || users[0].Name != "O" || users[1] != (store.NamedKey{Name: "bob", PublicKey: bob.Subject}) {
		t.Errorf("list users: %+v", users)
	}
	mustContain(t, e.MustRun("list", "users", "-a", ac.Subject), "Users of O", "bob", bob.Subject)
	mustContain(t, e.MustFail("list", "users", "-a", "nope"), `account "nope"`, "not found")

	// list keys: seeds only with --show-seeds, for identity and signing keys alike.
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	sk := ac.SigningKeys.Keys()[0]
	secrets := []string{seedOf(t, ks, oc.Subject), seedOf(t, ks, ac.Subject), seedOf(t, ks, sk), seedOf(t, ks, bob.Subject)}
	r := e.Run("list", "keys", "--account", "O")
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	mustContain(t, r.Out, oc.Subject, ac.Subject, sk, bob.Subject, "user (O)")
	mustNotContain(t, r.Out+r.Err, secrets...)
	mustNotContain(t, r.Out, sys.Subject)
	mustContain(t, r.Err, "--show-seeds")
	var keys []map[string]any
	decodeJSON(t, e.MustRun("list", "keys", "--account", "O", "--json"), &keys)
	for _, k := range keys {
		if _, ok := k["seed"]; ok {
			t.Errorf("seed in list keys --json without --show-seeds: %v", k)
		}
	}
	withSeeds := e.MustRun("list", "keys", "--account", "O", "--show-seeds")
	mustContain(t, withSeeds, secrets...)
	var seeded []struct {
		Seed    string `json:"seed"`
		Signing bool   `json:"signing"`
		KeyPath string `json:"key_path"`
	}
	decodeJSON(t, e.MustRun("list", "keys", "--account", "O", "--show-seeds", "--json"), &seeded)
	found := false
	for _, k := range seeded {
		if k.Signing && k.Seed == secrets[2] && k.KeyPath == ks.KeyPath(sk) {
			found = true
		}
	}
	if !found {
		t.Errorf("signing key seed missing from --show-seeds --json: %+v", seeded)
	}
	all := e.MustRun("list", "keys", "-A")
	mustContain(t, all, sys.Subject, "user (SYS)")
	mustContain(t, e.MustFail("list", "keys", "--not-referenced", "-S"), "exclusive")
}

func TestEnvAndSelect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "operator", "P")
	out := e.MustRun("env")
	mustContain(t, out, e.StoresDir(), e.KeysDir(), "Current Operator", "P", "$NSC_HOME", "(not set)", "$XDG_DATA_HOME", e.Vars["XDG_DATA_HOME"])
	var env struct {
		ConfigDir   string            `json:"config_dir"`
		StoresDir   string            `json:"stores_dir"`
		KeystoreDir string            `json:"keystore_dir"`
		Operator    string            `json:"operator"`
		Account     string            `json:"account"`
		Env         map[string]string `json:"env"`
	}
	decodeJSON(t, e.MustRun("env", "--json"), &env)
	if env.StoresDir != e.StoresDir() || env.KeystoreDir != e.KeysDir() || env.Operator != "P" || env.Account != "" {
		t.Errorf("env --json: %+v", env)
	}
	if env.ConfigDir != filepath.Join(e.Vars["XDG_CONFIG_HOME"], "nats", "nsc") {
		t.Errorf("config dir %q", env.ConfigDir)
	}

	mustContain(t, e.MustRunStatus("select", "operator", "O"), `operator "O" selected`)
	mustContain(t, e.MustRunStatus("select", "account", "SYS"), `account "SYS" of operator "O" selected`)
	decodeJSON(t, e.MustRun("env", "--json"), &env)
	if env.Operator != "O" || env.Account != "SYS" {
		t.Errorf("after select: %+v", env)
	}
	// the selection is what describe uses
	mustContain(t, e.MustRun("describe", "account"), "SYS")
	cfg, err := os.ReadFile(filepath.Join(env.ConfigDir, "nsc.json"))
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, string(cfg), `"operator": "O"`, `"account": "SYS"`)

	mustContain(t, e.MustFail("select", "operator", "nope"), `operator "nope" not found`)
	mustContain(t, e.MustFail("select", "account", "nope"), `account "nope"`, "not found")
	mustContain(t, e.MustFail("select", "account", "../x"), "account name")
	// a failed select leaves nsc.json alone
	decodeJSON(t, e.MustRun("env", "--json"), &env)
	if env.Operator != "O" || env.Account != "SYS" {
		t.Errorf("after failed select: %+v", env)
	}

	e.Vars["NSC_CWD_ONLY"] = "1"
	mustContain(t, e.MustFail("select", "operator", "P"), "NSC_CWD_ONLY")
}

func TestValidate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "account", "B")
	e.MustRun("add", "user", "u", "-a", "B")
	mustContain(t, e.MustRunStatus("validate", "-A"), `[ OK ] operator "O", all its 3 accounts and their 3 users validated: no warnings`)

	// An account re-signed by a key the operator does not know is blocking.
	s := openStore(t, e, "O")
	ac, _, _ := s.Account("B")
	rogue, _ := nkeys.CreateOperator()
	rpub, _ := rogue.PublicKey()
	tok, err := ac.Encode(rogue)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveAccount("B", tok); err != nil {
		t.Fatal(err)
	}
	// So is a user whose JWT was signed by a stranger's account key.
	stranger, _ := nkeys.CreateAccount()
	uc, _, _ := s.User("B", "u")
	utok, err := uc.Encode(stranger)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveUser("B", "u", utok); err != nil {
		t.Fatal(err)
	}
	r := e.Run("validate", "-A")
	var exit *cmdutil.ExitError
	if !errors.As(r.Error, &exit) || exit.Code != 1 {
		t.Fatalf("validate: want exit 1, got %v\n%s", r.Error, r.Out)
	}
	mustContain(t, r.Out, "Validation Issues", "account", "B", "signed by "+rpub, "neither operator", "B/u", "neither account")
	mustContain(t, r.Err, "2 blocking issues")
	mustNotContain(t, r.Err, "[ OK ]")
	var rep struct {
		Issues []struct{ Entity, Name, Severity, Description string }
	}
	r = e.Run("validate", "-A", "--json")
	decodeJSON(t, r.Out, &rep)
	if len(rep.Issues) != 2 || rep.Issues[0].Severity != "error" || rep.Issues[0].Name != "B" || rep.Issues[1].Name != "B/u" {
		t.Errorf("validate --json issues: %+v", rep.Issues)
	}
	// the other accounts are still fine
	mustContain(t, e.MustRunStatus("validate", "-a", "SYS"), "[ OK ]")

	// A broken JWT file is reported, not a crash.
	if err := os.WriteFile(s.UserPath("B", "u"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = e.Run("validate", "-a", "B")
	mustContain(t, r.Out, "B/u", "does not decode")
}

// resign re-signs an account after mutate, with the operator key, as the edit commands do.
func resign(t *testing.T, e *clitest.Env, account string, mutate func(*jwt.AccountClaims)) *jwt.AccountClaims {
	t.Helper()
	s := openStore(t, e, "O")
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	oc, _, _ := s.Operator()
	ac, _, err := s.Account(account)
	if err != nil {
		t.Fatal(err)
	}
	mutate(ac)
	okp, err := ks.Get(oc.Subject)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ac.Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveAccount(account, tok); err != nil {
		t.Fatal(err)
	}
	return ac
}

func TestDescribeAccountTables(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := openStore(t, e, "O")
	sys, _, _ := s.Account("SYS")
	user, _ := nkeys.CreateUser()
	upub, _ := user.PublicKey()
	resign(t, e, "O", func(ac *jwt.AccountClaims) {
		ac.Exports.Add(
			&jwt.Export{Name: "zsvc", Subject: "svc.>", Type: jwt.Service, TokenReq: true, ResponseType: jwt.ResponseTypeStream,
				Latency: &jwt.ServiceLatency{Sampling: 50, Results: "lat.svc"}},
			&jwt.Export{Name: "events", Subject: "events.>", Type: jwt.Stream, Advertise: true, Info: jwt.Info{Description: "all events"}},
		)
		ac.Imports.Add(&jwt.Import{Name: "sysinfo", Subject: "$SYS.REQ.ACCOUNT.*.INFO", Account: sys.Subject, Type: jwt.Service, LocalSubject: "info.*", Share: true})
		ac.Mappings = jwt.Mapping{}
		ac.AddMapping("orders", jwt.WeightedMapping{Subject: "orders.v2", Weight: 20}, jwt.WeightedMapping{Subject: "orders.v1", Weight: 80, Cluster: "east"})
		ac.AddMapping("a.b", jwt.WeightedMapping{Subject: "c.d"})
		ac.Limits.JetStreamTieredLimits = jwt.JetStreamTieredLimits{
			"R3": {MemoryStorage: 1024, DiskStorage: -1, Streams: 2, Consumer: -1},
			"R1": {MemoryStorage: -1, DiskStorage: 4096, Streams: -1, Consumer: 7, MaxBytesRequired: true},
		}
		ac.Revocations = jwt.RevocationList{}
		ac.Revocations.Revoke(upub, time.Now())
		ac.DefaultPermissions.Pub.Allow.Add("_INBOX.>")
		ac.Tags.Add("zone:b")
	})
	out := e.MustRun("describe", "account", "O")
	mustContain(t, out, "Exports", "events.>", "all events", "svc.>", "Stream", "50% -> lat.svc",
		"Imports", "$SYS.REQ.ACCOUNT.*.INFO", "info.*", sys.Subject,
		"Mappings", "orders.v1", "east", "c.d",
		"Tier", "R1", "R3", "Max Consumers", "Max Bytes Required",
		"Default Pub Allow", "_INBOX.>", "zone:b")
	// Exports sorted by subject, mappings by source, tiers by name: the same every time.
	order := func(a, b string) {
		t.Helper()
		if i, j := strings.Index(out, a), strings.Index(out, b); i < 0 || j < 0 || i > j {
			t.Errorf("%q should come before %q:\n%s", a, b, out)
		}
	}
	order("events.>", "svc.>")
	order("│ a.b", "│ orders")
	order("│ R1 ", "│ R3 ")
	if !strings.Contains(out, "│ Revocations                  │ 1 ") {
		t.Errorf("revocation count missing:\n%s", out)
	}
	for range 3 {
		if again := e.MustRun("describe", "account", "O"); again != out {
			t.Fatalf("describe account is not stable:\n%s\n%s", out, again)
		}
	}
}
