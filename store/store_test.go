package store_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/store"
)

// fixture is an operator store with the keys that signed it.
type fixture struct {
	t   testing.TB
	s   *store.Store
	okp nkeys.KeyPair
	akp map[string]nkeys.KeyPair
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	oc := jwt.NewOperatorClaims(opub)
	oc.Name = "O"
	tok, err := oc.Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Stores{Dir: t.TempDir()}.Create("O", tok, false)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, s: s, okp: okp, akp: map[string]nkeys.KeyPair{}}
}

func (f *fixture) account(name string) string {
	f.t.Helper()
	kp, _ := nkeys.CreateAccount()
	pub, _ := kp.PublicKey()
	ac := jwt.NewAccountClaims(pub)
	ac.Name = name
	tok, err := ac.Encode(f.okp)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.s.SaveAccount(name, tok); err != nil {
		f.t.Fatal(err)
	}
	f.akp[name] = kp
	return pub
}

func (f *fixture) userToken(account, name string) (string, string) {
	f.t.Helper()
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	uc := jwt.NewUserClaims(pub)
	uc.Name = name
	tok, err := uc.Encode(f.akp[account])
	if err != nil {
		f.t.Fatal(err)
	}
	return pub, tok
}

func (f *fixture) user(account, name string) string {
	f.t.Helper()
	pub, tok := f.userToken(account, name)
	if err := f.s.SaveUser(account, name, tok); err != nil {
		f.t.Fatal(err)
	}
	return pub
}

func TestCreateAndOpen(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	stores := store.Stores{Dir: filepath.Dir(f.s.Dir)}
	var info map[string]any
	data, err := os.ReadFile(filepath.Join(f.s.Dir, ".nsc"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &info); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"managed": false, "name": "O", "kind": "operator", "version": "1"}
	if len(info) != len(want) {
		t.Errorf(".nsc = %s", data)
	}
	for k, v := range want {
		if info[k] != v {
			t.Errorf(".nsc %s = %v, want %v", k, info[k], v)
		}
	}
	if _, err := stores.Create("O", "x", false); !errors.Is(err, store.ErrExists) {
		t.Errorf("second create: %v", err)
	}
	for _, bad := range []string{"", ".hidden", "a/b", `a\b`, "a\x00b", "tab\t", strings.Repeat("x", 201)} {
		if _, err := stores.Create(bad, "x", false); err == nil {
			t.Errorf("create %q: no error", bad)
		}
		if _, err := stores.Open(bad); err == nil {
			t.Errorf("open %q: no error", bad)
		}
	}
	// A half-made store (as a crash during Create leaves it) is not an operator.
	if err := os.MkdirAll(filepath.Join(stores.Dir, ".new-X-123"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stores.Dir, ".new-X-123", ".nsc"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	ops, err := stores.Operators()
	if err != nil || len(ops) != 1 || ops[0] != "O" {
		t.Errorf("operators %v, %v", ops, err)
	}
	s, err := stores.Open("O")
	if err != nil || s.Name() != "O" || s.Info.Kind != "operator" {
		t.Fatalf("open: %v %+v", err, s)
	}
	oc, _, err := s.Operator()
	if err != nil || oc.Name != "O" {
		t.Fatalf("operator: %v", err)
	}
	if _, err := stores.Open("missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("open missing: %v", err)
	}
	ops, err = store.Stores{Dir: filepath.Join(t.TempDir(), "none")}.Operators()
	if err != nil || len(ops) != 0 {
		t.Errorf("operators of a missing folder: %v %v", ops, err)
	}
}

func TestLookupByNameAndKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	apub := f.account("A")
	bpub := f.account("B")
	u1 := f.user("A", "u1")
	u2 := f.user("B", "u2")

	for ref, want := range map[string]string{"A": "A", apub: "A", bpub: "B"} {
		if got, err := f.s.FindAccount(ref); err != nil || got != want {
			t.Errorf("FindAccount(%s) = %q, %v", ref, got, err)
		}
	}
	for _, ref := range []string{"u1", u1} {
		if got, err := f.s.FindUser("A", ref); err != nil || got != "u1" {
			t.Errorf("FindUser(A, %s) = %q, %v", ref, got, err)
		}
	}
	if _, err := f.s.FindUser("A", u2); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("user of B found in A: %v", err)
	}
	if a, u, err := f.s.FindUserAnyAccount(u2); err != nil || a != "B" || u != "u2" {
		t.Errorf("FindUserAnyAccount = %q %q %v", a, u, err)
	}
	for _, bad := range []string{"", "../A", ".x", "a/b"} {
		if _, err := f.s.FindAccount(bad); err == nil {
			t.Errorf("FindAccount(%q): no error", bad)
		}
		if _, err := f.s.FindUser("A", bad); err == nil {
			t.Errorf("FindUser(%q): no error", bad)
		}
		if err := f.s.SaveUser("A", bad, "x"); err == nil {
			t.Errorf("SaveUser(%q): no error", bad)
		}
		if _, _, err := f.s.User("A", bad); err == nil {
			t.Errorf("User(%q): no error", bad)
		}
	}
	if _, err := f.s.FindAccount("C"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing account: %v", err)
	}
	other, _ := nkeys.CreateAccount()
	opub, _ := other.PublicKey()
	if _, err := f.s.FindAccount(opub); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown account key: %v", err)
	}
	if err := f.s.SaveUser("C", "u", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("user of a missing account: %v", err)
	}
	if err := f.s.SaveUser("A", "u", "not a jwt"); err == nil {
		t.Error("saving garbage as a user succeeded")
	}
	if f.s.HasUser("A", "u") {
		t.Error("garbage user left behind")
	}
}

// A store written by nsc has no index, and nsc may rewrite it behind signet's back: lookups by
// public key must still work, and must never answer with an entity that no longer has the key.
func TestLookupWithoutOrWithStaleIndex(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	apub := f.account("A")
	u1 := f.user("A", "u1")
	f.account("B")
	u2 := f.user("B", "u2")

	// No index at all (as nsc leaves it).
	if err := os.RemoveAll(filepath.Join(f.s.Dir, ".signet")); err != nil {
		t.Fatal(err)
	}
	if got, err := f.s.FindAccount(apub); err != nil || got != "A" {
		t.Errorf("FindAccount without index = %q, %v", got, err)
	}
	if got, err := f.s.FindUser("A", u1); err != nil || got != "u1" {
		t.Errorf("FindUser without index = %q, %v", got, err)
	}
	if a, u, err := f.s.FindUserAnyAccount(u2); err != nil || a != "B" || u != "u2" {
		t.Errorf("FindUserAnyAccount without index = %q %q %v", a, u, err)
	}
	// The scan repaired the index.
	if data, err := os.ReadFile(filepath.Join(f.s.Dir, ".signet", "keys", u1)); err != nil || string(data) != "A/u1" {
		t.Errorf("index not repaired: %q %v", data, err)
	}

	// nsc re-creates u1 with a new key and moves u2's JWT to another name: the index is stale.
	newU1, tok := f.userToken("A", "u1")
	if err := os.WriteFile(f.s.UserPath("A", "u1"), []byte(tok), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.FindUser("A", u1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old key of a re-created user still found: %v", err)
	}
	if got, err := f.s.FindUser("A", newU1); err != nil || got != "u1" {
		t.Errorf("new key of a re-created user = %q, %v", got, err)
	}
	if err := os.Rename(f.s.UserPath("B", "u2"), f.s.UserPath("B", "u2b")); err != nil {
		t.Fatal(err)
	}
	if got, err := f.s.FindUser("B", u2); err != nil || got != "u2b" {
		t.Errorf("renamed user = %q, %v", got, err)
	}
	// An index entry pointing at the wrong account is not trusted.
	if err := os.WriteFile(filepath.Join(f.s.Dir, ".signet", "keys", apub), []byte("B"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := f.s.FindAccount(apub); err != nil || got != "A" {
		t.Errorf("FindAccount with a wrong index = %q, %v", got, err)
	}
}

func TestUsersListDelete(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.account("A")
	want := map[string]string{}
	for _, n := range []string{"c", "a", "b"} {
		want[n] = f.user("A", n)
	}
	// Files that are not users: temporary files and other entries.
	for _, junk := range []string{".x.jwt.tmp-1", "notes.txt", ".hidden.jwt"} {
		if err := os.WriteFile(filepath.Join(f.s.AccountDir("A"), "users", junk), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	names, err := f.s.UserNames("A")
	if err != nil || strings.Join(names, ",") != "a,b,c" {
		t.Fatalf("UserNames = %v, %v", names, err)
	}
	list, err := f.s.ListUsers("A")
	if err != nil || len(list) != 3 {
		t.Fatalf("ListUsers = %v, %v", list, err)
	}
	for i, nk := range list {
		if nk.Name != names[i] || nk.PublicKey != want[nk.Name] {
			t.Errorf("ListUsers[%d] = %+v", i, nk)
		}
	}
	if _, err := f.s.UserNames("missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("users of a missing account: %v", err)
	}
	uc, _, err := f.s.User("A", "b")
	if err != nil || uc.Subject != want["b"] {
		t.Fatalf("User = %v", err)
	}
	if err := f.s.DeleteUser("A", "b"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteUser("A", "b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := f.s.FindUser("A", want["b"]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted user found by key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(f.s.Dir, ".signet", "keys", want["b"])); err == nil {
		t.Error("index entry of a deleted user left")
	}
	// Garbage JWT: listing reports it instead of inventing a key.
	if err := os.WriteFile(f.s.UserPath("A", "bad"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.ListUsers("A"); err == nil || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("ListUsers with a broken JWT: %v", err)
	}
	if _, _, err := f.s.User("A", "bad"); err == nil {
		t.Error("decoding garbage succeeded")
	}

	if err := f.s.DeleteAccount("A"); err != nil {
		t.Fatal(err)
	}
	if f.s.HasAccount("A") {
		t.Error("deleted account still there")
	}
	if accts, _ := f.s.Accounts(); len(accts) != 0 {
		t.Errorf("accounts after delete: %v", accts)
	}
	if err := f.s.DeleteAccount("A"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second account delete: %v", err)
	}
}

func TestLockExcludes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	unlock, err := f.s.Lock()
	if err != nil {
		t.Fatal(err)
	}
	probe := flock.New(filepath.Join(f.s.Dir, ".signet", "lock"))
	if ok, err := probe.TryLock(); err != nil || ok {
		t.Fatalf("lock not held: ok=%v err=%v", ok, err)
	}
	unlock()
	unlock() // releasing twice is harmless
	if ok, err := probe.TryLock(); err != nil || !ok {
		t.Fatalf("lock not released: ok=%v err=%v", ok, err)
	}
	// While another holder has it, Lock waits for it.
	got := make(chan func(), 1)
	go func() {
		u, err := f.s.Lock()
		if err != nil {
			t.Error(err)
			got <- func() {}
			return
		}
		got <- u
	}()
	select {
	case u := <-got:
		u()
		t.Fatal("Lock succeeded while the lock was held")
	default:
	}
	_ = probe.Unlock()
	(<-got)()
}

func TestPeekSubject(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pub, tok := func() (string, string) { f.account("A"); return f.userToken("A", "u") }()
	if got, err := store.PeekSubject(tok + "\n"); err != nil || got != pub {
		t.Errorf("PeekSubject = %q, %v", got, err)
	}
	for _, bad := range []string{"", "a.b", "a.!!.c", "a." + "e30" + ".c", "a.bm90IGpzb24.c"} {
		if _, err := store.PeekSubject(bad); err == nil {
			t.Errorf("PeekSubject(%q): no error", bad)
		}
	}
}

// The users journal must follow every change, signet's own and those made behind its back.
func TestListUsersJournal(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.account("A")
	want := map[string]string{}
	for _, n := range []string{"a", "b", "c"} {
		want[n] = f.user("A", n)
	}
	journal := filepath.Join(f.s.Dir, ".signet", "users", "A.log")
	usersDir := filepath.Join(f.s.AccountDir("A"), "users")
	tick := time.Now().Add(time.Hour)
	// touch moves the users folder's time on, as a change made later by another tool would.
	touch := func() {
		tick = tick.Add(time.Second)
		if err := os.Chtimes(usersDir, tick, tick); err != nil {
			t.Fatal(err)
		}
	}
	check := func(step string) {
		t.Helper()
		for round := 0; round < 2; round++ { // once building or trusting the journal, once trusting it
			list, err := f.s.ListUsers("A")
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			got := map[string]string{}
			for _, u := range list {
				got[u.Name] = u.PublicKey
			}
			if len(got) != len(want) {
				t.Errorf("%s (round %d): listed %v, want %v", step, round, got, want)
			}
			for n, p := range want {
				if got[n] != p {
					t.Errorf("%s (round %d): %s has key %s, want %s", step, round, n, got[n], p)
				}
			}
		}
	}
	check("initial")
	if _, err := os.Stat(journal); err != nil {
		t.Fatalf("no journal after listing: %v", err)
	}
	// signet's own changes are appended.
	want["d"] = f.user("A", "d")
	if err := f.s.DeleteUser("A", "a"); err != nil {
		t.Fatal(err)
	}
	delete(want, "a")
	want["b"] = f.user("A", "b") // re-saved with a new key
	data, _ := os.ReadFile(journal)
	if !strings.Contains(string(data), "+d "+want["d"]) || !strings.Contains(string(data), "-a\n") || !strings.Contains(string(data), "+b "+want["b"]) {
		t.Errorf("journal lacks signet's changes:\n%s", data)
	}
	check("after signet changes")

	// nsc deletes c and re-creates it with a new key, and adds e.
	if err := os.Remove(f.s.UserPath("A", "c")); err != nil {
		t.Fatal(err)
	}
	pub, tok := f.userToken("A", "c")
	if err := os.WriteFile(f.s.UserPath("A", "c"), []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	want["c"] = pub
	pub, tok = f.userToken("A", "e")
	if err := os.WriteFile(f.s.UserPath("A", "e"), []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	want["e"] = pub
	touch()
	check("after nsc changes")

	// A signet change after an unseen nsc change does not make the journal look current.
	if err := os.Remove(f.s.UserPath("A", "e")); err != nil {
		t.Fatal(err)
	}
	delete(want, "e")
	touch()
	want["f"] = f.user("A", "f")
	check("signet change after an nsc change")

	// A corrupt or truncated journal is rebuilt.
	for _, bad := range []string{"garbage\n", "+x", ""} {
		if err := os.WriteFile(journal, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		check("journal " + strconv.Quote(bad))
	}
	// Deleting the account drops its journal.
	if err := f.s.DeleteAccount("A"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(journal); err == nil {
		t.Error("journal of a deleted account left")
	}
}
