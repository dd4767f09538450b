package accountserver

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/natstest"
)

// TestRefusedStartLeavesNoStoreBehind: a start that fails (the HTTP port is taken, or the NATS
// credentials cannot be read) removes the store folder it made, and leaves a folder that
// existed before in place.
func TestRefusedStartLeavesNoStoreBehind(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	for _, c := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"port in use", func(cfg *Config) { cfg.HTTP.Port = port }, "listen for http"},
		{"unreadable credentials", func(cfg *Config) {
			cfg.NATS.Servers = []string{"nats://127.0.0.1:1"}
			cfg.NATS.UserCredentials = filepath.Join(t.TempDir(), "missing.creds")
		}, "missing.creds"},
	} {
		for _, existed := range []bool{false, true} {
			dir := filepath.Join(t.TempDir(), "store")
			if existed {
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			cfg := testConfig(t, op)
			cfg.Backend = nil
			cfg.Store = StoreConfig{Dir: dir}
			c.edit(&cfg)
			s, err := New(cfg, testLogger(t))
			if err == nil {
				err = s.Start()
				if err == nil {
					s.Shutdown(t.Context())
				}
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%s: start: %v, want an error about %q", c.name, err, c.want)
			}
			_, statErr := os.Stat(dir)
			if existed && statErr != nil {
				t.Errorf("%s: the store folder that existed before was removed: %v", c.name, statErr)
			}
			if !existed && !os.IsNotExist(statErr) {
				entries, _ := os.ReadDir(dir)
				t.Errorf("%s: a refused start left the store folder it made (%d entries)", c.name, len(entries))
			}
		}
	}
}
