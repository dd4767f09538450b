package entity_test

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/keystore"
)

// The operator JWT is signed by the operator identity key; when the keystore lacks it (kept
// offline), edit operator takes it from -K, and refuses anything else without changing a file.
func TestEditOperatorSignsWithTheIdentityKeyFromK(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys", "--generate-signing-key")
	s := openStore(t, e, "O")
	oc, _, err := s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	seedFile := moveKeyToFile(t, ks, oc.Subject)
	sk := oc.SigningKeys[0]
	seed, _ := os.ReadFile(seedFile)

	before := clitest.Snapshot(t, e.Home)
	stranger, _ := nkeys.CreateOperator()
	strangerSeed, _ := stranger.Seed()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"edit", "operator", "--tag", "a"}, "-K"},
		{[]string{"edit", "operator", "--tag", "a", "-K", oc.Subject}, "seed"},
		{[]string{"edit", "operator", "--tag", "a", "-K", sk}, "signing key"},
		{[]string{"edit", "operator", "--tag", "a", "-K", string(strangerSeed)}, "not the identity key"},
		{[]string{"edit", "operator", "--tag", "a", "--sk", "generate", "-K", filepath.Join(t.TempDir(), "none.nk")}, "not a seed"},
	} {
		msg := e.MustFail(c.args...)
		if !strings.Contains(msg, c.want) {
			t.Errorf("signet %s: %q does not say %q", strings.Join(c.args, " "), msg, c.want)
		}
		if strings.Contains(msg, string(strangerSeed)) {
			t.Errorf("error echoes a seed: %s", msg)
		}
		if !maps.Equal(before, clitest.Snapshot(t, e.Home)) {
			t.Fatalf("signet %s failed but changed files", strings.Join(c.args, " "))
		}
	}
	for _, k := range []string{seedFile, string(seed)} {
		e.MustRun("edit", "operator", "--tag", "k", "--service-url", "nats://a:4222", "-K", k)
	}
	oc2, tok, err := s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	if oc2.Issuer != oc.Subject || len(oc2.OperatorServiceURLs) != 1 || !oc2.Tags.Contains("k") {
		t.Fatalf("edited operator: issuer %s urls %v tags %v", oc2.Issuer, oc2.OperatorServiceURLs, oc2.Tags)
	}
	if _, err := jwt.DecodeOperatorClaims(tok); err != nil {
		t.Fatal(err)
	}
	if ks.Has(oc.Subject) {
		t.Error("-K put the operator key into the keystore")
	}
}

// add operator -K uses the given operator key instead of generating one, as nsc does.
func TestAddOperatorUsesTheKeyGivenWithK(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	kp, _ := nkeys.CreateOperator()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	seedFile := filepath.Join(t.TempDir(), "op.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	akp, _ := nkeys.CreateAccount()
	aseed, _ := akp.Seed()
	if msg := e.MustFail("add", "operator", "O", "-K", string(aseed)); !strings.Contains(msg, "not an operator key") {
		t.Errorf("-K account seed: %s", msg)
	}
	if msg := e.MustFail("add", "operator", "O", "-K", pub); !strings.Contains(msg, "seed") {
		t.Errorf("-K public key: %s", msg)
	}
	if _, err := os.Stat(e.StoresDir()); err == nil {
		if entries, _ := os.ReadDir(e.StoresDir()); len(entries) > 0 {
			t.Fatalf("failed add operator left %v", entries)
		}
	}
	e.MustRun("add", "operator", "O", "-K", seedFile, "--sys")
	oc, _, err := openStore(t, e, "O").Operator()
	if err != nil {
		t.Fatal(err)
	}
	if oc.Subject != pub || oc.Issuer != pub {
		t.Fatalf("operator key %s, want %s", oc.Subject, pub)
	}
	if !(keystore.KeyStore{Dir: e.KeysDir()}).Has(pub) {
		t.Error("the operator key is not in the keystore")
	}
}
