package store_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// FuzzUsersJournal writes any content into an account's users journal (the cache that keeps
// `list users` fast), stale or marked current: a listing never panics and always names exactly
// the users the folder holds; a journal that is not current never decides a key.
func FuzzUsersJournal(f *testing.F) {
	fx := newFixture(f)
	fx.account("A")
	truth := map[string]string{}
	for _, n := range []string{"alice", "bob", "carol"} {
		truth[n] = fx.user("A", n)
	}
	users, err := fx.s.ListUsers("A") // writes a real journal to seed the corpus with
	if err != nil || len(users) != 3 {
		f.Fatalf("listing: %v %v", users, err)
	}
	journal := filepath.Join(fx.s.Dir, ".signet", "users", "A.log")
	real, err := os.ReadFile(journal)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real, false)
	f.Add(real, true)
	f.Add([]byte("+alice "+truth["bob"]+"\n-bob\n"), true)
	f.Add([]byte("+dave UX\n"), true)
	f.Add([]byte("@"), false)
	f.Add([]byte("+\n+ \n-\n@\n"), true)
	f.Fuzz(func(t *testing.T, content []byte, current bool) {
		st, err := os.Stat(filepath.Join(fx.s.AccountDir("A"), "users"))
		if err != nil {
			t.Fatal(err)
		}
		if current {
			content = append(append(content, "\n@"...), strconv.FormatInt(st.ModTime().UnixNano(), 10)+"\n"...)
		}
		if err := os.WriteFile(journal, content, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := fx.s.ListUsers("A")
		if err != nil {
			t.Fatalf("listing with journal %q: %v", content, err)
		}
		if len(got) != len(truth) {
			t.Fatalf("listing %v does not name exactly the folder's users", got)
		}
		for _, u := range got {
			pub, ok := truth[u.Name]
			if !ok {
				t.Fatalf("listing names %q, which is not in the folder", u.Name)
			}
			if !current && u.PublicKey != pub {
				t.Fatalf("a stale journal decided %q's key: %s", u.Name, u.PublicKey)
			}
		}
	})
}
