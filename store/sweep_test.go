package store_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/signet-dev/signet/store"
)

// Temporary files a crashed write left behind are removed under the store's lock, once they
// are old enough not to belong to a write in progress; other files are never touched.
func TestLockSweepsStaleTemporaryFiles(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.account("A")
	dir := f.s.AccountDir("A")
	old := time.Now().Add(-2 * time.Minute)
	stale := []string{
		filepath.Join(dir, ".A.jwt.tmp-123"),
		filepath.Join(f.s.Dir, ".O.jwt.tmp-9"),
	}
	fresh := filepath.Join(dir, ".A.jwt.tmp-456")
	keep := filepath.Join(dir, ".notes")
	for _, p := range append(stale, fresh, keep) {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range append(stale, keep) {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	// A symlink named like a temporary file is not followed or removed.
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(target, []byte("y"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, ".link.tmp-1")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	unlock, err := f.s.Lock()
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("stale temporary file %s survived the sweep: %v", p, err)
		}
	}
	for _, p := range []string{fresh, keep, link, target} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	// The sweep runs at most once an hour: a new stale file waits for the next one.
	later := filepath.Join(dir, ".A.jwt.tmp-789")
	if err := os.WriteFile(later, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(later, old, old); err != nil {
		t.Fatal(err)
	}
	unlock, err = f.s.Lock()
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if _, err := os.Stat(later); err != nil {
		t.Errorf("a second lock within the hour swept again: %v", err)
	}
}

// Only names signet's own writes make count as temporary files.
func TestOnlySignetsTemporaryNamesAreSwept(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		".A.jwt.tmp-123":      true,
		".ABC.jwt.tmp4567":    true,
		".seed.nk.tmp-1":      true,
		".config.tmpl":        false,
		".session.tmp":        false,
		".index.tmp.lock":     false,
		".x.tmp-":             false,
		".x.tmp-12a":          false,
		".tmp123":             false,
		"A.jwt.tmp-1":         false,
		".A.jwt.tmp-1.backup": false,
	} {
		if got := store.IsTempName(name); got != want {
			t.Errorf("IsTempName(%q) = %v, want %v", name, got, want)
		}
	}
}
