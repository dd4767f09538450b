package entity_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// A seed typed where a name or a key file belongs is never echoed back in the error.
func TestSeedInTheWrongPlaceIsNotEchoed(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	keys, err := filepath.Glob(filepath.Join(e.KeysDir(), "keys", "U", "*", "*.nk"))
	if err != nil || len(keys) == 0 {
		t.Fatalf("no user seed in the keystore: %v", err)
	}
	data, err := os.ReadFile(keys[0])
	if err != nil {
		t.Fatal(err)
	}
	seed := strings.TrimSpace(string(data))
	for _, args := range [][]string{
		{"describe", "user", "-a", "O", "-n", seed},
		{"describe", "account", seed},
		{"add", "user", "x", "-a", "O", "-K", seed + "/x"},
		{"edit", "account", "O", "--conns", "3", "-K", seed + "/x"},
	} {
		r := e.Run(args...)
		if r.Error == nil {
			t.Errorf("%s: no error", args[:2])
			continue
		}
		if out := r.Error.Error() + r.Out + r.Err; strings.Contains(out, seed) {
			t.Errorf("%s echoes the seed: %s", args[:2], out)
		}
	}
}
