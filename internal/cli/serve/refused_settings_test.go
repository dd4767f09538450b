package serve_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// TestServeRefusesSettingsItWouldIgnore: a setting signet serve cannot honour (read-only or
// sharded without a store directory, a negative port) is a one-line error before anything is
// opened, created or served, from flags and from the configuration file alike.
func TestServeRefusesSettingsItWouldIgnore(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	tmp := t.TempDir()
	conf := func(name, text string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	storeDir := filepath.Join(tmp, "jwts")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--readonly"}, "readonly"},
		{[]string{"-ro"}, "readonly"},
		{[]string{"--shard"}, "shard"},
		{[]string{"-c", conf("readonly.conf", "store { readonly: true }\n")}, "readonly"},
		{[]string{"-c", conf("shard.conf", "store { shard: true }\n")}, "shard"},
		{[]string{"-c", conf("kvshard.conf", "store { shard: true, kv { } }\n")}, "shard"},
		{[]string{"-c", conf("port.conf", "http { port: -5 }\nstore { dir: \""+storeDir+"\" }\n")}, "port -5"},
		{[]string{"-c", conf("bigport.conf", "http { port: 70000 }\n")}, "port 70000"},
	} {
		args := append([]string{"serve", "--operator", "O"}, tc.args...)
		if tc.args[0] != "-c" {
			args = append(args, "--http", "127.0.0.1:0")
		}
		// Bounded: a serve that accepted the settings runs until the context ends.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r := e.RunContext(ctx, args...)
		cancel()
		if r.Error == nil {
			t.Errorf("%v: accepted\n%s", tc.args, r.Err)
			continue
		}
		if msg := r.Error.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("%v: %q, want one line about %q", tc.args, msg, tc.want)
		}
		if strings.Contains(r.Err, "account server is running") {
			t.Errorf("%v: served:\n%s", tc.args, r.Err)
		}
	}
	if _, err := os.Stat(storeDir); !os.IsNotExist(err) {
		t.Errorf("the store directory of a refused configuration was created: %v", err)
	}
}
