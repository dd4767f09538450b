package entity_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// A seed typed where a name or a key file belongs is never echoed back: not in the error, and
// not in the warning of a -K that names no file (ignored, as nsc ignores it).
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
	for _, c := range []struct {
		args []string
		fail bool
	}{
		{[]string{"describe", "user", "-a", "O", "-n", seed}, true},
		{[]string{"describe", "account", seed}, true},
		{[]string{"add", "user", "x", "-a", "O", "-K", seed + "/x"}, false},
		{[]string{"edit", "account", "O", "--conns", "3", "-K", seed + "/x"}, false},
	} {
		args := c.args
		r := e.Run(args...)
		if (r.Error != nil) != c.fail {
			t.Errorf("%s: error %v, want failure %t", args[:2], r.Error, c.fail)
		}
		if r.Error == nil {
			r.Error = errors.New("")
		}
		if out := r.Error.Error() + r.Out + r.Err; strings.Contains(out, seed) {
			t.Errorf("%s echoes the seed: %s", args[:2], out)
		}
	}
}
