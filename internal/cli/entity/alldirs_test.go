package entity_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// nsc's -H DIR is the config, stores and keystore folder at once: scripts that ran nsc with
// --all-dirs read nsc.json, DIR/<operator>/..., DIR/keys/... and DIR/creds/... from there.
func TestAllDirsLaysOutFoldersAsNsc(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	dir := filepath.Join(t.TempDir(), "all")
	e.MustRun("--all-dirs", dir, "add", "operator", "O", "--sys")
	e.MustRun("-H", dir, "add", "account", "A")
	e.MustRun("-H", dir, "add", "user", "-a", "A", "u")
	for _, p := range []string{
		"nsc.json",
		".gitignore",
		"O/.nsc",
		"O/O.jwt",
		"O/accounts/A/A.jwt",
		"O/accounts/A/users/u.jwt",
		"O/accounts/SYS/users/sys.jwt",
		"creds/O/A/u.creds",
		"creds/O/SYS/sys.creds",
	} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	keys, err := filepath.Glob(filepath.Join(dir, "keys", "[OAU]", "*", "*.nk"))
	if err != nil || len(keys) != 6 { // operator, SYS and its signing key (as nsc), A, sys, u
		t.Errorf("keys under DIR/keys: %v %v", keys, err)
	}
	for _, p := range []string{"stores", "keys/keys", "keys/creds"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("%s exists: -H must not nest folders", p)
		}
	}
	// The keystore's folders beside the operator folder are not operators.
	out := e.MustRun("-H", dir, "list", "operators", "--json")
	if !strings.Contains(out, `"O"`) || strings.Contains(out, "keys") || strings.Contains(out, "creds") {
		t.Errorf("list operators under -H: %s", out)
	}
	// Nothing went to the default folders.
	if _, err := os.Stat(e.StoresDir()); err == nil {
		t.Errorf("default stores folder %s was written", e.StoresDir())
	}
}
