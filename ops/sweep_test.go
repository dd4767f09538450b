package ops_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/signet-dev/signet/ops"
)

// TestLockSweepsStaleTemporaryCopiesOfSeeds: taking the store's lock removes the temporary
// files (copies of seeds and creds) that writes cut short left in the keystore more than a
// minute ago, and leaves younger ones (a write in progress) and every other file alone; the
// keystore gets no file of signet's own (nsc's layout).
func TestLockSweepsStaleTemporaryCopiesOfSeeds(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	keys := filepath.Join(fx.ks.Dir, "keys", "A", "BC")
	old := time.Now().Add(-2 * time.Minute)
	stale := []string{
		filepath.Join(keys, ".ABCD.nk.tmp-123"),
		filepath.Join(fx.ks.Dir, "creds", "O", "A", ".u.creds.tmp-9"),
	}
	fresh := filepath.Join(keys, ".ABCD.nk.tmp-456")
	keep := filepath.Join(keys, ".notes")
	for _, f := range append(stale, fresh, keep) {
		if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("SUAseed"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range append(stale, keep) {
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
	before, err := filepath.Glob(filepath.Join(fx.ks.Dir, ".*"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := ops.Lock(fx.s, fx.ks)
	if err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	for _, f := range stale {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("stale temporary file %s survived: %v", f, err)
		}
	}
	for _, f := range []string{fresh, keep} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s was removed: %v", f, err)
		}
	}
	after, _ := filepath.Glob(filepath.Join(fx.ks.Dir, ".*"))
	if len(after) != len(before) {
		t.Errorf("the sweep left a file of its own in the keystore: %v -> %v", before, after)
	}
}
