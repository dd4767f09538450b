package store_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/signet-dev/signet/store"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func mustResolve(t *testing.T, opts store.DirOptions, env map[string]string) store.Dirs {
	t.Helper()
	d, err := store.ResolveDirs(opts, envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o700); err != nil {
		t.Fatal(err)
	}
}

func checkDirs(t *testing.T, got, want store.Dirs) {
	t.Helper()
	if got != want {
		t.Errorf("dirs:\n got %+v\nwant %+v", got, want)
	}
}

func TestResolveDirsXDG(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	env := map[string]string{
		"HOME":            home,
		"XDG_CONFIG_HOME": filepath.Join(home, "cfg"),
		"XDG_DATA_HOME":   filepath.Join(home, "data"),
	}
	checkDirs(t, mustResolve(t, store.DirOptions{}, env), store.Dirs{
		ConfigDir:   filepath.Join(home, "cfg", "nats", "nsc"),
		StoresDir:   filepath.Join(home, "data", "nats", "nsc", "stores"),
		KeystoreDir: filepath.Join(home, "data", "nats", "nsc", "keys"),
	})
	// Without XDG variables: ~/.config and ~/.local/share.
	checkDirs(t, mustResolve(t, store.DirOptions{}, map[string]string{"HOME": home}), store.Dirs{
		ConfigDir:   filepath.Join(home, ".config", "nats", "nsc"),
		StoresDir:   filepath.Join(home, ".local", "share", "nats", "nsc", "stores"),
		KeystoreDir: filepath.Join(home, ".local", "share", "nats", "nsc", "keys"),
	})
}

func TestResolveDirsLegacyFallback(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	env := map[string]string{"HOME": home}
	touch(t, filepath.Join(home, ".nsc", "nsc.json"))
	mkdir(t, filepath.Join(home, ".nsc", "nats"))
	mkdir(t, filepath.Join(home, ".nkeys"))
	legacy := store.Dirs{
		ConfigDir:   filepath.Join(home, ".nsc"),
		StoresDir:   filepath.Join(home, ".nsc", "nats"),
		KeystoreDir: filepath.Join(home, ".nkeys"),
	}
	checkDirs(t, mustResolve(t, store.DirOptions{}, env), legacy)

	// Once the XDG folders exist they win, each one on its own.
	touch(t, filepath.Join(home, ".config", "nats", "nsc", "nsc.json"))
	legacy.ConfigDir = filepath.Join(home, ".config", "nats", "nsc")
	checkDirs(t, mustResolve(t, store.DirOptions{}, env), legacy)
	mkdir(t, filepath.Join(home, ".local", "share", "nats", "nsc", "keys"))
	legacy.KeystoreDir = filepath.Join(home, ".local", "share", "nats", "nsc", "keys")
	checkDirs(t, mustResolve(t, store.DirOptions{}, env), legacy)
	mkdir(t, filepath.Join(home, ".local", "share", "nats", "nsc", "stores"))
	legacy.StoresDir = filepath.Join(home, ".local", "share", "nats", "nsc", "stores")
	checkDirs(t, mustResolve(t, store.DirOptions{}, env), legacy)
}

func TestResolveDirsEnvAndFlags(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	env := map[string]string{
		"HOME":          home,
		"XDG_DATA_HOME": filepath.Join(home, "data"),
		"NSC_HOME":      filepath.Join(home, "nschome"),
		"NKEYS_PATH":    filepath.Join(home, "nkeys"),
		"NSC_CWD_ONLY":  "1",
	}
	checkDirs(t, mustResolve(t, store.DirOptions{}, env), store.Dirs{
		ConfigDir:   filepath.Join(home, "nschome"),
		StoresDir:   filepath.Join(home, "data", "nats", "nsc", "stores"),
		KeystoreDir: filepath.Join(home, "nkeys"),
		CwdOnly:     true,
	})
	// Flags win over the environment; ~ is the home folder; relative paths become absolute.
	d := mustResolve(t, store.DirOptions{ConfigDir: "~/c", DataDir: "~/d", KeystoreDir: "rel/k"}, env)
	wd, _ := os.Getwd()
	checkDirs(t, d, store.Dirs{
		ConfigDir:   filepath.Join(home, "c"),
		StoresDir:   filepath.Join(home, "d"),
		KeystoreDir: filepath.Join(wd, "rel", "k"),
		CwdOnly:     true,
	})
	// -H is the config, stores and keystore folder at once, as in nsc; a specific flag still wins.
	all := filepath.Join(home, "all")
	checkDirs(t, mustResolve(t, store.DirOptions{AllDirs: all}, env), store.Dirs{
		ConfigDir:   all,
		StoresDir:   all,
		KeystoreDir: all,
		CwdOnly:     true,
	})
	checkDirs(t, mustResolve(t, store.DirOptions{AllDirs: all, KeystoreDir: "/k"}, env), store.Dirs{
		ConfigDir:   all,
		StoresDir:   all,
		KeystoreDir: "/k",
		CwdOnly:     true,
	})
}

func TestToolConfigRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c, err := store.LoadToolConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.StoreRoot != "" || c.Operator != "" || c.Account != "" {
		t.Fatalf("missing nsc.json: want an empty config, got %+v", c)
	}
	// As nsc writes it, with settings signet does not know.
	orig := `{
  "docker_host": "x",
  "store_root": "/s",
  "root": {"nested": [1, 2, {"a": null}]},
  "operator": "O",
  "account": "A",
  "github_updates": "nats-io/nsc",
  "last_update": 1700000000
}`
	if err := os.WriteFile(filepath.Join(dir, store.ConfigFileName), []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err = store.LoadToolConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.StoreRoot != "/s" || c.Operator != "O" || c.Account != "A" {
		t.Fatalf("loaded %+v", c)
	}
	c.Account = "B"
	if err := c.Save(dir); err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	data, _ := os.ReadFile(filepath.Join(dir, store.ConfigFileName))
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("saved nsc.json is not JSON: %v", err)
	}
	_ = json.Unmarshal([]byte(orig), &want)
	want["account"] = "B"
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Errorf("round trip lost or changed fields:\n got %s\nwant %s", gj, wj)
	}
	if st, _ := os.Stat(filepath.Join(dir, store.ConfigFileName)); st.Mode().Perm() != 0o600 {
		t.Errorf("nsc.json mode %v", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("leftover files beside nsc.json: %v", entries)
	}

	for _, bad := range []string{`{`, `{"operator": 3}`, `[]`} {
		if err := os.WriteFile(filepath.Join(dir, store.ConfigFileName), []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := store.LoadToolConfig(dir); err == nil {
			t.Errorf("nsc.json %q: no error", bad)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "a", "b", "f.jwt")
	if err := store.WriteFileAtomic(p, []byte("one"), 0o600, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := store.WriteFileAtomic(p, []byte("two"), 0o644, 0o700); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil || string(data) != "two" {
		t.Fatalf("read %q, %v", data, err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("file mode %v, want 0644", st.Mode().Perm())
	}
	dst, _ := os.Stat(filepath.Join(dir, "a"))
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("created folder mode %v, want 0700", dst.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	// A failure leaves the old content and no temporary file.
	if err := os.Mkdir(filepath.Join(dir, "isdir"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "isdir", "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := store.WriteFileAtomic(filepath.Join(dir, "isdir"), []byte("x"), 0o600, 0o700); err == nil {
		t.Error("writing over a non-empty folder succeeded")
	}
	entries, _ = os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "a" && e.Name() != "isdir" {
			t.Errorf("leftover %s", e.Name())
		}
	}
	if err := store.WriteFileAtomic(filepath.Join(dir, "isdir", "x", "y"), []byte("x"), 0o600, 0o700); err == nil {
		t.Error("writing under a file succeeded")
	}
}
