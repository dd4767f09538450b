package inspect_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

func TestListTakesNscSingularNamesAndAnotherOperator(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	e.MustRun("init", "-n", "P") // P is now the current operator
	if out := e.MustRun("list", "operator", "--json"); !strings.Contains(out, `"O"`) || !strings.Contains(out, `"P"`) {
		t.Errorf("list operator:\n%s", out)
	}
	out := e.MustRun("list", "account", "-o", "O", "--json")
	if !strings.Contains(out, `"name": "O"`) || strings.Contains(out, `"name": "P"`) {
		t.Errorf("list account -o O lists P's accounts:\n%s", out)
	}
	// As in nsc, -o makes O the current operator.
	if out := e.MustRun("list", "accounts", "--json"); !strings.Contains(out, `"name": "O"`) || strings.Contains(out, `"name": "P"`) {
		t.Errorf("after list accounts -o O, list accounts is not O's:\n%s", out)
	}
	e.MustRun("select", "operator", "P")
	out = e.MustRun("list", "user", "--operator", "O", "-a", "O", "--json")
	if !strings.Contains(out, `"name": "O"`) {
		t.Errorf("list user -o O -a O:\n%s", out)
	}
	if out := e.MustRun("list", "accounts", "--json"); !strings.Contains(out, `"name": "O"`) {
		t.Errorf("after list users -o O -a O, list accounts is not O's:\n%s", out)
	}
}

func TestExportKeysWritesSeedsAndJWTsAndMovesWithRemove(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	dir := filepath.Join(e.Home, "out")
	e.MustRun("export", "keys", "--all", "--include-jwts", "--dir", dir)
	keys := listKeys(t, e, "--all")
	for _, k := range keys {
		seed, err := os.ReadFile(filepath.Join(dir, k.Pub+".nk"))
		if err != nil {
			t.Fatalf("%s.nk: %v", k.Pub, err)
		}
		kp, err := nkeys.FromSeed(seed)
		if err != nil {
			t.Fatalf("%s.nk holds no seed: %v", k.Pub, err)
		}
		if pub, _ := kp.PublicKey(); pub != k.Pub {
			t.Errorf("%s.nk holds the seed of %s", k.Pub, pub)
		}
		if fi, _ := os.Stat(filepath.Join(dir, k.Pub+".nk")); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s.nk mode %v, want 0600", k.Pub, fi.Mode().Perm())
		}
		if len(k.JWT) > 0 {
			if data, err := os.ReadFile(filepath.Join(dir, k.Pub+".jwt")); err != nil || string(data) != string(k.JWT) {
				t.Errorf("%s.jwt: %v", k.Pub, err)
			}
		}
	}
	// Files that exist are not overwritten without --force.
	r := e.Run("export", "keys", "--operator", "--dir", dir)
	if r.Error == nil || !strings.Contains(r.Err, "exists: pass --force") {
		t.Errorf("second export without --force: %v, stderr %q", r.Error, r.Err)
	}
	// --remove moves the operator's key out of the keystore.
	out := e.MustRunStatus("export", "keys", "--operator", "--dir", dir, "--force", "--remove")
	if !strings.Contains(out, "[ OK ] moved ") {
		t.Errorf("export --remove: %s", out)
	}
	for _, k := range listKeys(t, e, "--operator") {
		if k.KeyPath != "" {
			t.Errorf("operator key %s still in the keystore after --remove", k.Pub)
		}
	}
	// init makes no auth callout curve key: --curves alone finds nothing.
	if r := e.Run("export", "keys", "--curves", "--dir", dir); r.Error == nil || !strings.Contains(r.Error.Error(), "no keys found") {
		t.Errorf("export keys --curves: %v", r.Error)
	}
	if r := e.Run("export", "keys"); r.Error == nil || !strings.Contains(r.Error.Error(), "--dir is required") {
		t.Errorf("export keys without --dir: %v", r.Error)
	}
}

func TestValidateFileChecksEachJWTOfTheFileWithoutAStore(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	acc := strings.TrimSpace(e.MustRun("describe", "account", "O", "--raw"))
	usr := strings.TrimSpace(e.MustRun("describe", "user", "O", "-a", "O", "--raw"))
	file := filepath.Join(e.Home, "jwts")
	// A plain line, and nsc's pack format "pub|jwt".
	if err := os.WriteFile(file, []byte(acc+"\nADUMMY|"+usr+"\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := e.MustRunStatus("validate", "-f", file)
	if !strings.Contains(out, "2 JWTs validated: no warnings") {
		t.Errorf("validate -f: %s", out)
	}
	var rep struct {
		File string `json:"file"`
		JWTs int    `json:"jwts"`
	}
	if err := json.Unmarshal([]byte(e.MustRun("validate", "--file", file, "--json")), &rep); err != nil || rep.JWTs != 2 || rep.File != file {
		t.Errorf("validate --file --json: %+v %v", rep, err)
	}
	if err := os.WriteFile(file, []byte(acc[:len(acc)-4]+"AAAA\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := e.Run("validate", "-f", file); r.Error == nil || !strings.Contains(r.Out, "does not decode or verify") {
		t.Errorf("validate -f with a bad signature: %v\n%s", r.Error, r.Out)
	}
	if msg := e.MustFail("validate", "-f", file, "-A"); !strings.Contains(msg, "exclusive") {
		t.Errorf("validate -f -A: %s", msg)
	}
	// nsc's --all-accounts is -A.
	if out := e.MustRunStatus("validate", "--all-accounts"); !strings.Contains(out, "all its 2 accounts") {
		t.Errorf("validate --all-accounts: %s", out)
	}
}
