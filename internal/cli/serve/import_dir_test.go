package serve_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// The import itself, with a kv store, a refused account and serving afterwards, is
// TestRolledBackLimitIsEnforcedByANatsServerResolvingThroughSignetServe (internal/cli/kv).

// TestServeImportDirThatIsNoStoreStopsBeforeServing: a missing directory is an error naming
// --import-dir, and nothing is served.
func TestServeImportDirThatIsNoStoreStopsBeforeServing(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	r := e.Run("serve", "--operator", "O", "--http", "127.0.0.1:0", "--import-dir", filepath.Join(t.TempDir(), "missing"))
	if r.Error == nil || !strings.Contains(r.Error.Error(), "--import-dir") || !strings.Contains(r.Error.Error(), "no such file") {
		t.Fatalf("serve with a missing --import-dir: %v", r.Error)
	}
	if strings.Contains(r.Err, "account server is running") {
		t.Errorf("serve started serving:\n%s", r.Err)
	}
}
