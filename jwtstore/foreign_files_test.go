package jwtstore

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Only regular files named after an account key and holding an account JWT for that key are
// loaded or served: a symbolic link (say, to /etc/hostname), a file under a name that is no
// account key, and another account's JWT under a key are skipped, each with a warning.
func TestDirServesOnlyItsOwnAccountFiles(t *testing.T) {
	t.Parallel()
	for _, shard := range []bool{false, true} {
		dir := t.TempDir()
		path := func(pub string) string {
			if shard {
				return filepath.Join(dir, pub[len(pub)-2:], pub+".jwt")
			}
			return filepath.Join(dir, pub+".jwt")
		}
		write := func(p, data string) {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		good, goodTok := newAccountJWT(t, "good")
		write(path(good), goodTok)
		secret := filepath.Join(t.TempDir(), "hostname")
		write(secret, "not-for-you\n")
		linked, _ := newAccountJWT(t, "linked")
		if err := os.MkdirAll(filepath.Dir(path(linked)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(secret, path(linked)); err != nil {
			t.Fatal(err)
		}
		_, otherTok := newAccountJWT(t, "other")
		wrong, _ := newAccountJWT(t, "wrong")
		write(path(wrong), otherTok)
		write(filepath.Join(filepath.Dir(path(good)), "NOTAKEY.jwt"), goodTok)

		var mu sync.Mutex
		var warnings []string
		d, err := OpenDir(dir, DirOptions{Shard: shard, OnError: func(err error) {
			mu.Lock()
			warnings = append(warnings, err.Error())
			mu.Unlock()
		}})
		if err != nil {
			t.Fatal(err)
		}
		served := map[string]string{}
		if err := d.Range(func(pub, jwt string) bool { served[pub] = jwt; return true }); err != nil {
			t.Fatal(err)
		}
		if len(served) != 1 || served[good] != goodTok {
			t.Errorf("shard=%t: the store serves %d accounts, want only the good one", shard, len(served))
		}
		for pub, jwt := range served {
			if strings.Contains(jwt, "not-for-you") {
				t.Errorf("shard=%t: %s serves the content of a linked file", shard, pub)
			}
		}
		for _, pub := range []string{linked, wrong} {
			if _, err := d.Get(pub); err == nil {
				t.Errorf("shard=%t: Get(%s) served a file that is not its account JWT", shard, pub)
			}
		}
		mu.Lock()
		all := strings.Join(warnings, "\n")
		mu.Unlock()
		for _, want := range []string{"NOTAKEY.jwt", "not a regular file", "holds no account JWT for " + wrong} {
			if !strings.Contains(all, want) {
				t.Errorf("shard=%t: no warning mentions %q:\n%s", shard, want, all)
			}
		}
		d.Close()
	}
}

// Temporary files that crashed writes left in the store are removed when it opens, once they
// are older than a minute; younger ones may belong to a write in progress.
func TestDirOpenRemovesStaleTemporaryFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pub, tok := newAccountJWT(t, "A")
	if err := os.WriteFile(filepath.Join(dir, pub+".jwt"), []byte(tok), 0o644); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "."+pub+".jwt.tmp12345")
	fresh := filepath.Join(dir, "."+pub+".jwt.tmp67890")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Minute)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(dir, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary file kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a temporary file younger than a minute was removed: %v", err)
	}
	if got, err := d.Get(pub); err != nil || got != tok {
		t.Errorf("the account's own file: %v", err)
	}
}

// A store folder may hold other people's files (a --dir pointed at a folder in use): opening
// it removes only the store's own stale temporary files, in the folder, its shard folders and
// its record areas (a compaction's), and never a file merely named like one, nor anything
// deeper.
func TestDirOpenRemovesOnlyItsOwnTemporaryFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pub, _ := newAccountJWT(t, "A")
	shard := pub[len(pub)-2:]
	own := []string{
		"." + pub + ".jwt.tmp12345",
		filepath.Join(shard, "."+pub+".jwt.tmp999"),
		".healthz.tmp42",
		filepath.Join(".outbox", ".log.tmp77"),
	}
	foreign := []string{
		".config.tmpl",
		".session.tmp",
		".notes.tmp-x",
		".tmp123",
		filepath.Join(".git", ".index.tmp.lock"),
		filepath.Join(".git", "."+pub+".jwt.tmp1"),
		filepath.Join("deep", "er", "."+pub+".jwt.tmp2"),
		filepath.Join(shard, "deeper", "."+pub+".jwt.tmp3"),
		"." + pub + ".creds.tmp4",
		filepath.Join(".outbox", ".notes.tmp5"),
		filepath.Join(".outbox", "deeper", ".log.tmp6"),
	}
	old := time.Now().Add(-time.Hour)
	for _, name := range append(own, foreign...) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	d, err := OpenDir(dir, DirOptions{Shard: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, name := range own {
		if _, err := os.Lstat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("stale temporary file %s kept: %v", name, err)
		}
	}
	for _, name := range foreign {
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s, not a temporary file of the store, was removed: %v", name, err)
		}
	}
}

// A sharded store looks for an account in the folder of its key's last two characters: a JWT
// file in another shard folder is skipped with a report (not counted or listed and then never
// served), and the account in its right folder is served.
func TestShardedStoreSkipsAccountsInTheWrongShardFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pub, tok := newAccountJWT(t, "A")
	right := pub[len(pub)-2:]
	wrong := "AA"
	if right == wrong {
		wrong = "BB"
	}
	if err := os.MkdirAll(filepath.Join(dir, wrong), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, wrong, pub+".jwt"), []byte(tok), 0o644); err != nil {
		t.Fatal(err)
	}
	var reports []string
	d, err := OpenDir(dir, DirOptions{Shard: true, ReadOnly: true, OnError: func(err error) { reports = append(reports, err.Error()) }})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 0 {
		t.Errorf("an account in the wrong shard folder is counted: %d accounts", d.Len())
	}
	if !strings.Contains(strings.Join(reports, "\n"), "belongs in "+right) {
		t.Errorf("no report names the account's shard folder: %q", reports)
	}
	d.Close()
	if err := os.MkdirAll(filepath.Join(dir, right), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, wrong, pub+".jwt"), filepath.Join(dir, right, pub+".jwt")); err != nil {
		t.Fatal(err)
	}
	d, err = OpenDir(dir, DirOptions{Shard: true, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got, err := d.Get(pub); err != nil || got != tok || d.Len() != 1 {
		t.Errorf("the account in its shard folder: %v, %d accounts", err, d.Len())
	}
}
