package cli_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/store"
)

// nscWriter writes files the way nsc does: JWTs raw (no newline) with mode 0600 in 0700 folders,
// seeds in keys/<kind>/<chars 2-3>/<PUB>.nk.
type nscWriter struct {
	t                  *testing.T
	storesDir, keysDir string
}

func (w nscWriter) write(path string, data []byte) {
	w.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		w.t.Fatal(err)
	}
}

func (w nscWriter) key(kp nkeys.KeyPair) string {
	w.t.Helper()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	w.write(filepath.Join(w.keysDir, "keys", pub[:1], pub[1:3], pub+".nk"), seed)
	return pub
}

func mustEncode(t *testing.T, c interface {
	Encode(nkeys.KeyPair) (string, error)
}, kp nkeys.KeyPair) string {
	t.Helper()
	tok, err := c.Encode(kp)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestReadsAndEditsAnNscStore builds a store exactly as nsc lays it out (no signet index)
// and checks signet finds, describes, edits and extends it.
func TestReadsAndEditsAnNscStore(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	w := nscWriter{t: t, storesDir: e.StoresDir(), keysDir: e.KeysDir()}
	opDir := filepath.Join(w.storesDir, "Acme")

	okp, _ := nkeys.CreateOperator()
	opub := w.key(okp)
	skp, _ := nkeys.CreateAccount()
	spub := w.key(skp)
	akp, _ := nkeys.CreateAccount()
	apub := w.key(akp)
	ukp, _ := nkeys.CreateUser()
	upub := w.key(ukp)
	useed, _ := ukp.Seed()

	oc := jwt.NewOperatorClaims(opub)
	oc.Name = "Acme"
	oc.SystemAccount = spub
	w.write(filepath.Join(opDir, ".nsc"), []byte(`{"managed":false,"name":"Acme","kind":"operator","version":"1"}`))
	w.write(filepath.Join(opDir, "Acme.jwt"), []byte(mustEncode(t, oc, okp)))
	sc := jwt.NewAccountClaims(spub)
	sc.Name = "SYS"
	w.write(filepath.Join(opDir, "accounts", "SYS", "SYS.jwt"), []byte(mustEncode(t, sc, okp)))
	ac := jwt.NewAccountClaims(apub)
	ac.Name = "Sales"
	w.write(filepath.Join(opDir, "accounts", "Sales", "Sales.jwt"), []byte(mustEncode(t, ac, okp)))
	uc := jwt.NewUserClaims(upub)
	uc.Name = "ann"
	utok := mustEncode(t, uc, akp)
	w.write(filepath.Join(opDir, "accounts", "Sales", "users", "ann.jwt"), []byte(utok))
	creds, _ := jwt.FormatUserConfig(utok, useed)
	w.write(filepath.Join(w.keysDir, "creds", "Acme", "Sales", "ann.creds"), creds)
	cfgDir := filepath.Join(e.Vars["XDG_CONFIG_HOME"], "nats", "nsc")
	w.write(filepath.Join(cfgDir, "nsc.json"), []byte(`{"store_root":"`+w.storesDir+`","operator":"Acme","account":"Sales","github_updates":"nats-io/nsc","last_update":1700000000}`))

	// Read: lists, and describe by name and by public key.
	var items []store.NamedKey
	if err := json.Unmarshal([]byte(e.MustRun("list", "accounts", "--json")), &items); err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Name != "SYS" && items[1].Name != "SYS" {
		t.Errorf("accounts: %+v", items)
	}
	for _, ref := range []string{"ann", upub} {
		var got jwt.UserClaims
		if err := json.Unmarshal([]byte(e.MustRun("describe", "user", ref, "--json")), &got); err != nil {
			t.Fatalf("describe user %s: %v", ref, err)
		}
		if got.Subject != upub || got.Name != "ann" {
			t.Errorf("describe user %s: %s %q", ref, got.Subject, got.Name)
		}
	}
	if out := e.MustRun("describe", "account", apub, "--json"); !strings.Contains(out, `"Sales"`) {
		t.Errorf("describe account by key:\n%s", out)
	}
	if out := e.MustRun("generate", "creds", "-n", upub); out != string(creds) {
		t.Errorf("generate creds differs from nsc's creds file:\n%s", out)
	}

	// Edit: the user, re-signed by the account key from nsc's keystore.
	e.MustRun("edit", "user", "ann", "--allow-pub", "sales.>")
	data, err := os.ReadFile(filepath.Join(opDir, "accounts", "Sales", "users", "ann.jwt"))
	if err != nil {
		t.Fatal(err)
	}
	edited, err := jwt.DecodeUserClaims(string(data))
	if err != nil {
		t.Fatal(err)
	}
	if edited.Subject != upub || edited.Issuer != apub || len(edited.Pub.Allow) != 1 || edited.Pub.Allow[0] != "sales.>" {
		t.Errorf("edited user: sub %s iss %s allow %v", edited.Subject, edited.Issuer, edited.Pub.Allow)
	}
	// Add: a new user lands where nsc would put it, with nsc's creds path.
	e.MustRun("add", "user", "bob")
	bob, err := os.ReadFile(filepath.Join(opDir, "accounts", "Sales", "users", "bob.jwt"))
	if err != nil {
		t.Fatal(err)
	}
	bc, err := jwt.DecodeUserClaims(string(bob))
	if err != nil || bc.Issuer != apub || bc.Name != "bob" {
		t.Fatalf("new user: %v %+v", err, bc)
	}
	if _, err := os.Stat(filepath.Join(w.keysDir, "creds", "Acme", "Sales", "bob.creds")); err != nil {
		t.Errorf("creds of the new user: %v", err)
	}
	if _, err := os.Stat(filepath.Join(w.keysDir, "keys", "U", bc.Subject[1:3], bc.Subject+".nk")); err != nil {
		t.Errorf("seed of the new user: %v", err)
	}
	e.MustRun("add", "account", "Ops")
	e.MustRun("validate")

	// nsc's own settings survived signet's writes to nsc.json.
	var cfg map[string]any
	raw, _ := os.ReadFile(filepath.Join(cfgDir, "nsc.json"))
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg["github_updates"] != "nats-io/nsc" || cfg["last_update"] != float64(1700000000) || cfg["operator"] != "Acme" {
		t.Errorf("nsc.json after signet: %s", raw)
	}
}

// TestWritesNscLayout checks every file signet writes has the path, name and content form
// nsc uses, so nsc can read it without migration.
func TestWritesNscLayout(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	e.MustRun("add", "user", "u2", "-a", "O")

	files := func(root string, skip string) []string {
		var out []string
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if d.IsDir() && d.Name() == skip {
				return filepath.SkipDir
			}
			if !d.IsDir() {
				out = append(out, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(out)
		return out
	}
	// The stores: nothing but nsc's files, apart from signet's own .signet folder, which nsc
	// never looks at (it lists accounts/ and reads <name>.jwt files only).
	got := files(e.StoresDir(), ".signet")
	want := []string{
		"O/.nsc", "O/O.jwt",
		"O/accounts/O/O.jwt", "O/accounts/O/users/O.jwt", "O/accounts/O/users/u2.jwt",
		"O/accounts/SYS/SYS.jwt", "O/accounts/SYS/users/sys.jwt",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("store files:\n got %v\nwant %v", got, want)
	}
	opDir := filepath.Join(e.StoresDir(), "O")
	var info map[string]any
	raw, _ := os.ReadFile(filepath.Join(opDir, ".nsc"))
	if err := json.Unmarshal(raw, &info); err != nil {
		t.Fatal(err)
	}
	if len(info) != 4 || info["managed"] != false || info["name"] != "O" || info["kind"] != "operator" || info["version"] != "1" {
		t.Errorf(".nsc = %s", raw)
	}
	// Every JWT is the bare token, named after its claim's name, and in the folder of its kind.
	pubs := map[string]bool{}
	for _, f := range want[1:] {
		data, _ := os.ReadFile(filepath.Join(e.StoresDir(), filepath.FromSlash(f)))
		tok := string(data)
		if strings.TrimSpace(tok) != tok || strings.Count(tok, ".") != 2 {
			t.Errorf("%s is not a bare JWT", f)
		}
		gc, err := jwt.DecodeGeneric(tok)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if base := strings.TrimSuffix(filepath.Base(f), ".jwt"); gc.Name != base {
			t.Errorf("%s holds a claim named %q", f, gc.Name)
		}
		kind := map[int]jwt.ClaimType{1: jwt.OperatorClaim, 3: jwt.AccountClaim, 4: jwt.UserClaim}[strings.Count(f, "/")]
		if gc.ClaimType() != kind {
			t.Errorf("%s holds a %s claim, want %s", f, gc.ClaimType(), kind)
		}
		pubs[gc.Subject] = true
		if ac, err := jwt.DecodeAccountClaims(tok); err == nil {
			for _, k := range ac.SigningKeys.Keys() {
				pubs[k] = true // the seeds of the accounts' signing keys (SYS has one, as in nsc)
			}
		}
	}
	// The keystore: a seed per entity at nsc's path, creds per user, nsc's .gitignore.
	keys := files(e.KeysDir(), "")
	wantKeys := []string{".gitignore", "creds/O/O/O.creds", "creds/O/O/u2.creds", "creds/O/SYS/sys.creds"}
	for pub := range pubs {
		wantKeys = append(wantKeys, "keys/"+pub[:1]+"/"+pub[1:3]+"/"+pub+".nk")
	}
	sort.Strings(wantKeys)
	if strings.Join(keys, "\n") != strings.Join(wantKeys, "\n") {
		t.Errorf("keystore files:\n got %v\nwant %v", keys, wantKeys)
	}
	for _, k := range keys {
		if !strings.HasSuffix(k, ".nk") {
			continue
		}
		data, _ := os.ReadFile(filepath.Join(e.KeysDir(), filepath.FromSlash(k)))
		kp, err := nkeys.FromSeed(data)
		if err != nil {
			t.Errorf("%s is not a bare seed: %v", k, err)
			continue
		}
		if pub, _ := kp.PublicKey(); !strings.HasSuffix(k, pub+".nk") {
			t.Errorf("%s holds the seed of %s", k, pub)
		}
	}
}
