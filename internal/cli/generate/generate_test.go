package generate_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

func newEnv(t *testing.T) *clitest.Env {
	t.Helper()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	e.MustRun("edit", "operator", "--rm-service-url", "nats://localhost:4222") // init's: the test names its own server
	return e
}

func TestGenerateNKeyKinds(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	for _, tc := range []struct {
		flag   string
		prefix nkeys.PrefixByte
		seedP  string
	}{
		{"--operator", nkeys.PrefixByteOperator, "SO"},
		{"--account", nkeys.PrefixByteAccount, "SA"},
		{"--user", nkeys.PrefixByteUser, "SU"},
		{"--curve", nkeys.PrefixByteCurve, "SX"},
	} {
		out := e.MustRun("generate", "nkey", tc.flag)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			t.Fatalf("%s: want seed and public key, got %q", tc.flag, out)
		}
		if !strings.HasPrefix(lines[0], tc.seedP) {
			t.Errorf("%s: seed %q does not start with %s", tc.flag, lines[0][:2], tc.seedP)
		}
		kp, err := nkeys.FromSeed([]byte(lines[0]))
		if err != nil {
			t.Fatalf("%s: seed: %v", tc.flag, err)
		}
		pub, _ := kp.PublicKey()
		if pub != lines[1] {
			t.Errorf("%s: public key %q does not match seed (%q)", tc.flag, lines[1], pub)
		}
		if p := nkeys.Prefix(pub); p != tc.prefix {
			t.Errorf("%s: prefix of %s is %v", tc.flag, pub, p)
		}
	}
	if msg := e.MustFail("generate", "nkey"); !strings.Contains(msg, "--operator") {
		t.Errorf("no kind: unclear error %q", msg)
	}
	// Nothing was stored without --store.
	if keys, _ := (keystore.KeyStore{Dir: e.KeysDir()}).List(); len(keys) != 0 {
		t.Errorf("keys stored without --store: %v", keys)
	}
}

// TestGenerateNKeyStoreNeverPrintsTheSeed: with --store, as in nsc, the output is the public
// key and where its seed went (nsc's keystore path, mode 0600), never the seed.
func TestGenerateNKeyStoreNeverPrintsTheSeed(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	out := e.MustRun("generate", "nkey", "--user", "--store")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want the public key and where it is stored, got %q", out)
	}
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	want := ks.KeyPath(lines[0])
	if lines[1] != "user key stored "+want {
		t.Errorf("path line %q does not name %s", lines[1], want)
	}
	kp, err := ks.Get(lines[0])
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	if strings.Contains(out, string(seed)) {
		t.Errorf("the seed is in the output:\n%s", out)
	}
	st, err := os.Stat(want)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	out = e.MustRun("generate", "nkey", "--curve", "--store")
	pub := strings.Split(out, "\n")[0]
	if !strings.HasPrefix(pub, "X") || !ks.Has(pub) {
		t.Errorf("curve key %q not stored", pub)
	}
}

func TestGenerateCreds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.MustRun("generate", "creds", "-a", "O", "-n", "O")
	tok, err := jwt.ParseDecoratedJWT([]byte(out))
	if err != nil {
		t.Fatalf("creds on stdout: %v\n%s", err, out)
	}
	uc, err := jwt.DecodeUserClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := jwt.ParseDecoratedUserNKey([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if pub, _ := kp.PublicKey(); pub != uc.Subject || uc.Name != "O" {
		t.Errorf("creds seed %s / JWT subject %s name %q", pub, uc.Subject, uc.Name)
	}

	// By public key, to a file.
	file := filepath.Join(t.TempDir(), "sub", "u.creds")
	e.MustRun("generate", "creds", "-a", "O", "-n", uc.Subject, "-o", file)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != out {
		t.Error("file creds differ from stdout creds")
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("creds file mode %v, want 0600", st.Mode().Perm())
	}

	// Missing seed: a clear error, no file.
	if err := (keystore.KeyStore{Dir: e.KeysDir()}).Remove(uc.Subject); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.creds")
	msg := e.MustFail("generate", "creds", "-a", "O", "-n", "O", "-o", missing)
	if !strings.Contains(msg, "no seed for user") || !strings.Contains(msg, uc.Subject) {
		t.Errorf("unclear error for a missing seed: %q", msg)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("creds file written despite the error")
	}
	if msg := e.MustFail("generate", "creds", "-a", "O", "-n", "nobody"); !strings.Contains(msg, "not found") {
		t.Errorf("unknown user: %q", msg)
	}
	// No user named: the account's only user, O, as nsc picks it (its seed is gone).
	if msg := e.MustFail("generate", "creds", "-a", "O"); !strings.Contains(msg, "no seed for user \"O\"") {
		t.Errorf("no user: %q", msg)
	}
}

func loadConfig(t *testing.T, text string) *server.Options {
	t.Helper()
	p := filepath.Join(t.TempDir(), "server.conf")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(p)
	if err != nil {
		t.Fatalf("nats-server rejects the configuration: %v\n%s", err, text)
	}
	return opts
}

func operatorAndAccounts(t *testing.T, e *clitest.Env) (*jwt.OperatorClaims, map[string]string) {
	t.Helper()
	s, err := store.OpenDir(filepath.Join(e.StoresDir(), "O"))
	if err != nil {
		t.Fatal(err)
	}
	oc, _, err := s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	names, _ := s.Accounts()
	accounts := map[string]string{}
	for _, n := range names {
		ac, tok, err := s.Account(n)
		if err != nil {
			t.Fatal(err)
		}
		accounts[ac.Subject] = tok
	}
	return oc, accounts
}

func TestGenerateConfigMemResolver(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "account", "B")
	oc, accounts := operatorAndAccounts(t, e)
	if len(accounts) != 3 {
		t.Fatalf("want SYS, O and B, got %d accounts", len(accounts))
	}
	out := e.MustRun("generate", "config", "--mem-resolver")
	opts := loadConfig(t, out)
	if opts.SystemAccount != oc.SystemAccount {
		t.Errorf("system_account %q, want %q", opts.SystemAccount, oc.SystemAccount)
	}
	if len(opts.TrustedOperators) != 1 || opts.TrustedOperators[0].Subject != oc.Subject {
		t.Errorf("trusted operators %v", opts.TrustedOperators)
	}
	if _, ok := opts.AccountResolver.(*server.MemAccResolver); !ok {
		t.Errorf("resolver %T, want memory", opts.AccountResolver)
	}
	// Preloads are applied when the server starts.
	opts.Port = -1
	opts.NoSigs = true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	for pub, tok := range accounts {
		got, err := opts.AccountResolver.Fetch(pub)
		if err != nil || got != tok {
			t.Errorf("account %s not preloaded (%v)", pub, err)
		}
		if _, err := ns.LookupAccount(pub); err != nil {
			t.Errorf("server does not know account %s: %v", pub, err)
		}
	}

	// --config-file, refusing to overwrite without --force.
	file := filepath.Join(t.TempDir(), "nats.conf")
	e.MustRun("generate", "config", "--mem-resolver", "--config-file", file)
	data, err := os.ReadFile(file)
	if err != nil || string(data) != out {
		t.Fatalf("config file differs from stdout (%v)", err)
	}
	if msg := e.MustFail("generate", "config", "--mem-resolver", "--config-file", file); !strings.Contains(msg, "--force") {
		t.Errorf("overwrite without --force: %q", msg)
	}
	e.MustRun("generate", "config", "--mem-resolver", "--config-file", file, "--force")
	if msg := e.MustFail("generate", "config"); !strings.Contains(msg, "exactly one") {
		t.Errorf("no resolver: %q", msg)
	}
	if msg := e.MustFail("generate", "config", "--mem-resolver", "--nats-resolver"); !strings.Contains(msg, "exactly one") {
		t.Errorf("two resolvers: %q", msg)
	}

	// --sys-account by name.
	out = e.MustRun("generate", "config", "--mem-resolver", "--sys-account", "B")
	for pub := range accounts {
		if loadConfig(t, out).SystemAccount == pub {
			return
		}
	}
	t.Error("--sys-account B not used")
}

// The NATS resolvers use dir './jwt', which nats-server resolves against the working directory
// when it parses the file, so these tests change directory and cannot run in parallel.
func TestGenerateConfigNatsResolvers(t *testing.T) {
	e := newEnv(t)
	oc, accounts := operatorAndAccounts(t, e)
	t.Chdir(t.TempDir())
	for _, tc := range []struct {
		flag string
		want any
	}{
		{"--nats-resolver", &server.DirAccResolver{}},
		{"--nats-resolver-cache", &server.CacheDirAccResolver{}},
	} {
		out := e.MustRun("generate", "config", tc.flag)
		if !strings.Contains(out, "dir: './jwt'") {
			t.Errorf("%s: no ./jwt dir:\n%s", tc.flag, out)
		}
		opts := loadConfig(t, out)
		switch tc.want.(type) {
		case *server.DirAccResolver:
			r, ok := opts.AccountResolver.(*server.DirAccResolver)
			if !ok {
				t.Fatalf("%s: resolver %T", tc.flag, opts.AccountResolver)
			}
			if r.DirJWTStore == nil {
				t.Errorf("%s: no directory store", tc.flag)
			}
			for _, s := range []string{"allow_delete: false", `interval: "2m"`, `timeout: "1.9s"`, "type: full"} {
				if !strings.Contains(out, s) {
					t.Errorf("%s: missing %q", tc.flag, s)
				}
			}
		case *server.CacheDirAccResolver:
			if _, ok := opts.AccountResolver.(*server.CacheDirAccResolver); !ok {
				t.Fatalf("%s: resolver %T", tc.flag, opts.AccountResolver)
			}
		}
		if opts.SystemAccount != oc.SystemAccount {
			t.Errorf("%s: system_account %q", tc.flag, opts.SystemAccount)
		}
		// Only the system account is preloaded.
		if !strings.Contains(out, accounts[oc.SystemAccount]) {
			t.Errorf("%s: system account JWT not preloaded", tc.flag)
		}
		if n := strings.Count(out, "eyJ0eXAi"); n != 2 {
			t.Errorf("%s: %d JWTs in the file, want operator and system account", tc.flag, n)
		}
	}
	// An operator without a system account cannot have a NATS resolver.
	e2 := clitest.New(t, cli.NewRootCmd)
	e2.MustRun("add", "operator", "P")
	if msg := e2.MustFail("generate", "config", "--nats-resolver"); !strings.Contains(msg, "system account") {
		t.Errorf("no system account: %q", msg)
	}
	out := e2.MustRun("generate", "config", "--mem-resolver")
	if strings.Contains(out, "system_account") {
		t.Error("system_account written for an operator without one")
	}
	loadConfig(t, out)
}
