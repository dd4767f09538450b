package inspect_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

// nscKey is one key of `list keys --json`, with nsc's field names.
type nscKey struct {
	Name         string `json:"name"`
	Pub          string `json:"pub"`
	Parent       string `json:"parent"`
	Signing      bool   `json:"signing"`
	Curve        bool   `json:"curve"`
	KeyPath      string `json:"key_path"`
	Invalid      bool   `json:"invalid"`
	JWT          []byte `json:"jwt"`
	ExpectedKind string `json:"expected_kind"`
	Seed         string `json:"seed"`
}

func listKeys(t *testing.T, e *clitest.Env, args ...string) []nscKey {
	t.Helper()
	var keys []nscKey
	out := e.MustRun(append([]string{"list", "keys", "--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &keys); err != nil {
		t.Fatalf("list keys %v: %v\n%s", args, err, out)
	}
	return keys
}

func pubs(keys []nscKey) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.Pub)
	}
	return out
}

// A container entrypoint takes the operator signing seed from `list keys --operator --json
// --show-seeds` (picking the signing key) and hands it to -K, in a store under -H as a volume.
func TestContainerEntrypointSignsWithTheOperatorSigningSeedFromListKeys(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	data := filepath.Join(t.TempDir(), "data")
	e.MustRun("-H", data, "add", "operator", "O", "--sys", "--generate-signing-key")
	e.MustRun("-H", data, "add", "account", "A", "--sk", "generate")
	e.MustRun("-H", data, "add", "user", "-a", "A", "u")
	e.MustRun("-H", data, "edit", "operator", "--require-signing-keys")

	// The entrypoint: jq '.[] | select(.signing) | .seed'.
	keys := listKeys(t, e, "-H", data, "--operator", "--show-seeds")
	var seeds []string
	for _, k := range keys {
		if k.ExpectedKind != "operator" {
			t.Errorf("--operator listed a %s key: %+v", k.ExpectedKind, k)
		}
		if k.Signing {
			seeds = append(seeds, k.Seed)
		}
	}
	if len(seeds) != 1 || !strings.HasPrefix(seeds[0], "SO") {
		t.Fatalf("operator signing seeds: %d (%v)", len(seeds), keys)
	}
	kp, err := nkeys.FromSeed([]byte(seeds[0]))
	if err != nil {
		t.Fatal(err)
	}
	skPub, _ := kp.PublicKey()

	e.MustRun("-H", data, "add", "account", "APP", "-K", seeds[0])
	s, err := store.Stores{Dir: data}.Open("O")
	if err != nil {
		t.Fatal(err)
	}
	ac, _, err := s.Account("APP")
	if err != nil {
		t.Fatal(err)
	}
	if ac.Issuer != skPub {
		t.Fatalf("APP issued by %s, want the operator signing key %s", ac.Issuer, skPub)
	}
	oc, _, _ := s.Operator()
	if !slices.Contains(oc.SigningKeys, skPub) {
		t.Fatalf("the seed is not of an operator signing key")
	}
}

func TestListKeysFiltersByKindAccountUserAndText(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys", "--generate-signing-key")
	e.MustRun("add", "account", "A", "--sk", "generate")
	e.MustRun("add", "user", "-a", "A", "auth")
	e.MustRun("add", "user", "-a", "A", "u")
	e.MustRun("add", "account", "B")
	e.MustRun("add", "user", "-a", "B", "v")
	e.MustRun("edit", "authcallout", "A", "--auth-user", "auth", "--curve", "generate")
	s := openStore(t, e, "O")
	oc, opJWT, _ := s.Operator()
	a, aJWT, _ := s.Account("A")
	b, _, _ := s.Account("B")
	sys, _, _ := s.Account("SYS")
	u, _, _ := s.User("A", "u")
	v, _, _ := s.User("B", "v")
	ks := keystore.KeyStore{Dir: e.KeysDir()}

	// No kind flag: the operator, the current account (B, added last) and its users.
	def := listKeys(t, e)
	if got := pubs(def); len(got) != 4 || got[0] != oc.Subject || got[2] != b.Subject || got[3] != v.Subject {
		t.Errorf("default: %v", got)
	}
	// nsc's fields: JWT (base64) on identity keys only, parent, key_path of the stored seed.
	if k := def[0]; string(k.JWT) != opJWT || k.KeyPath != ks.KeyPath(oc.Subject) || k.Parent != "" || k.Seed != "" {
		t.Errorf("operator entry: %+v", k)
	}
	if k := def[1]; !k.Signing || k.JWT != nil {
		t.Errorf("operator signing key entry: %+v", k)
	}
	if k := def[3]; k.Parent != b.Subject || k.ExpectedKind != "user" {
		t.Errorf("user entry: %+v", k)
	}

	accounts := listKeys(t, e, "--accounts")
	var curve nscKey
	for _, k := range accounts {
		if k.ExpectedKind != "account" {
			t.Errorf("--accounts listed %+v", k)
		}
		if k.Curve {
			curve = k
		}
	}
	if curve.Pub != a.Authorization.XKey || curve.KeyPath == "" {
		t.Errorf("curve key in --accounts: %+v", curve)
	}
	for _, want := range []string{a.Subject, b.Subject, sys.Subject} {
		if !slices.Contains(pubs(accounts), want) {
			t.Errorf("--accounts lacks %s", want)
		}
	}
	if k := listKeys(t, e, "-a", "--account", "A"); len(k) != 3 || k[0].Pub != a.Subject || string(k[0].JWT) != aJWT || k[0].Parent != oc.Subject {
		t.Errorf("-a --account A: %+v", k)
	}
	if got := pubs(listKeys(t, e, "-x")); len(got) != 1 || got[0] != a.Authorization.XKey {
		t.Errorf("-x: %v", got)
	}
	if got := pubs(listKeys(t, e, "-u", "--user", "u", "--account", "A")); len(got) != 1 || got[0] != u.Subject {
		t.Errorf("--user u: %v", got)
	}
	users := pubs(listKeys(t, e, "--users"))
	if len(users) != 4 || !slices.Contains(users, v.Subject) {
		t.Errorf("--users: %v", users)
	}
	if got := listKeys(t, e, "-A", "--filter", strings.ToLower(u.Subject[3:12])); len(got) != 1 || got[0].Pub != u.Subject {
		t.Errorf("--filter: %v", pubs(got))
	}
	if got := listKeys(t, e, "-A", "-f", "NOTAKEY"); len(got) != 0 {
		t.Errorf("--filter matching nothing: %v", pubs(got))
	}

	// A key in the keystore that nothing uses.
	stray, _ := nkeys.CreateAccount()
	if _, err := ks.Store(stray); err != nil {
		t.Fatal(err)
	}
	strayPub, _ := stray.PublicKey()
	if got := listKeys(t, e, "--not-referenced"); len(got) != 1 || got[0].Pub != strayPub || got[0].Name != "?" {
		t.Errorf("--not-referenced: %+v", got)
	}
	if got := listKeys(t, e, "--not-referenced", "--operator"); len(got) != 0 {
		t.Errorf("--not-referenced --operator: %+v", got)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"list", "keys", "--account", "NOSUCH"}, "NOSUCH"},
		{[]string{"list", "keys", "--user", "nobody", "--account", "A"}, "nobody"},
		{[]string{"list", "keys", "--not-referenced", "--show-seeds"}, "exclusive"},
	} {
		if msg := e.MustFail(c.args...); !strings.Contains(msg, c.want) {
			t.Errorf("signet %s: %q does not say %q", strings.Join(c.args, " "), msg, c.want)
		}
	}
}
