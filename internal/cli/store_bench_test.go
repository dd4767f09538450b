package cli_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/entity"
	"github.com/signet-dev/signet/internal/cli/inspect"
	"github.com/signet-dev/signet/store"
)

// The store benchmarks run the real command functions in-process against an account holding
// 0 or 100,000 users. Figures are in docs/perf/store.md; run them with
//
//	go test ./internal/cli -run '^$' -bench 'AddUser|DescribeUser|DeleteUser|ListUsersJSON' -benchtime 200x
//
// The target is that add, describe and delete at 100,000 users stay within 1.5x of the same
// command on an empty account, and that `list users --json` at 100,000 users takes under 1 s.

const benchBigAccount = 100_000

// benchStore is an isolated signet environment with operator O and account A.
type benchStore struct {
	vars    map[string]string
	home    string
	s       *store.Store
	account string
	accKP   nkeys.KeyPair
	users   []store.NamedKey // the users written directly, in name order
}

func (bs *benchStore) factory() *cmdutil.Factory {
	f := cmdutil.NewFactory(strings.NewReader(""), io.Discard, io.Discard, false)
	f.Getenv = func(k string) string { return bs.vars[k] }
	f.Environ = func() []string { return nil }
	f.Getwd = func() (string, error) { return bs.home, nil }
	return f
}

// newBenchStore makes operator O with account A holding n users. The users are generated with
// jwt/v2 and nkeys in parallel and written straight to disk in the store's layout (JWT, and the
// public-key index entry signet keeps beside it) without fsync, so that 100,000 take seconds.
func newBenchStore(b testing.TB, n int) *benchStore {
	b.Helper()
	home := b.TempDir()
	bs := &benchStore{home: home, account: "A", vars: map[string]string{
		"HOME":            home,
		"XDG_CONFIG_HOME": filepath.Join(home, "config"),
		"XDG_DATA_HOME":   filepath.Join(home, "data"),
	}}
	f := bs.factory()
	if err := entity.RunAddOperator(f, &entity.AddOperatorOptions{Name: "O"}); err != nil {
		b.Fatal(err)
	}
	if err := entity.RunAddAccount(f, &entity.AccountOptions{Name: bs.account}); err != nil {
		b.Fatal(err)
	}
	s, err := f.Operator("")
	if err != nil {
		b.Fatal(err)
	}
	bs.s = s
	ac, _, err := s.Account(bs.account)
	if err != nil {
		b.Fatal(err)
	}
	ks, err := f.KeyStore()
	if err != nil {
		b.Fatal(err)
	}
	if bs.accKP, err = ks.Get(ac.Subject); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	bs.users = make([]store.NamedKey, n)
	usersDir := filepath.Dir(s.UserPath(bs.account, "x"))
	indexDir := filepath.Join(s.Dir, ".signet", "keys")
	if err := os.MkdirAll(indexDir, 0o755); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				name := fmt.Sprintf("u%06d", i)
				pub, tok, err := bs.userJWT(name)
				if err == nil {
					err = os.WriteFile(filepath.Join(usersDir, name+".jwt"), []byte(tok), 0o644)
				}
				if err == nil {
					// The index entry signet's store writes on SaveUser: <op>/.signet/keys/<pub>.
					err = os.WriteFile(filepath.Join(indexDir, pub), []byte(bs.account+"/"+name), 0o644)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
				bs.users[i] = store.NamedKey{Name: name, PublicKey: pub}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	flushFilesystems()
	if n > 0 {
		b.Logf("wrote %d users in %v (flushed to disk)", n, time.Since(start).Round(time.Millisecond))
	}
	// The first listing reads every JWT and leaves the users journal that later ones read.
	start = time.Now()
	if _, err := s.ListUsers(bs.account); err != nil {
		b.Fatal(err)
	}
	if n > 0 {
		b.Logf("first listing of %d users (no journal yet): %v", n, time.Since(start).Round(time.Millisecond))
	}
	return bs
}

func (bs *benchStore) userJWT(name string) (pub, token string, err error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return "", "", err
	}
	pub, _ = kp.PublicKey()
	uc := jwt.NewUserClaims(pub)
	uc.Name = name
	token, err = uc.Encode(bs.accKP)
	return pub, token, err
}

// benchSizes builds the empty and the big account once per benchmark function.
func benchSizes(b *testing.B, run func(b *testing.B, bs *benchStore)) {
	for _, n := range []int{0, benchBigAccount} {
		bs := newBenchStore(b, n)
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) { run(b, bs) })
	}
}

func BenchmarkAddUser(b *testing.B) {
	benchSizes(b, func(b *testing.B, bs *benchStore) {
		f := bs.factory()
		prefix := fmt.Sprintf("add-%d-", b.N)
		b.ResetTimer()
		for i := range b.N {
			if err := entity.RunAddUser(f, &entity.UserOptions{Name: fmt.Sprintf("%s%d", prefix, i), Account: bs.account}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDescribeUser(b *testing.B) {
	benchSizes(b, func(b *testing.B, bs *benchStore) {
		f := bs.factory()
		// The empty account gets the one user that is described.
		target := store.NamedKey{Name: "target"}
		if len(bs.users) == 0 {
			if err := entity.RunAddUser(f, &entity.UserOptions{Name: target.Name, Account: bs.account}); err != nil {
				b.Fatal(err)
			}
			uc, _, err := bs.s.User(bs.account, target.Name)
			if err != nil {
				b.Fatal(err)
			}
			target.PublicKey = uc.Subject
		} else {
			target = bs.users[len(bs.users)/2]
		}
		for _, by := range []struct{ name, ref, account string }{
			{"name", target.Name, bs.account},
			{"key", target.PublicKey, ""}, // no -a: found across accounts through the index
		} {
			b.Run("by="+by.name, func(b *testing.B) {
				for range b.N {
					if err := inspect.RunDescribeUser(f, &inspect.DescribeOptions{Name: by.ref, Account: by.account}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	})
}

// BenchmarkDeleteUser deletes with --revoke=false: revoking re-signs the account, a cost that
// depends on the number of revocations, not of users.
func BenchmarkDeleteUser(b *testing.B) {
	benchSizes(b, func(b *testing.B, bs *benchStore) {
		f := bs.factory()
		prefix := fmt.Sprintf("del-%d-", b.N)
		for i := range b.N {
			name := fmt.Sprintf("%s%d", prefix, i)
			b.StopTimer()
			_, tok, err := bs.userJWT(name)
			if err == nil {
				err = bs.s.SaveUser(bs.account, name, tok)
			}
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := entity.RunDeleteUser(f, &entity.DeleteUserOptions{Names: []string{name}, Account: bs.account}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkListUsersJSON(b *testing.B) {
	benchSizes(b, func(b *testing.B, bs *benchStore) {
		f := bs.factory()
		for range b.N {
			if err := inspect.RunListUsers(f, &inspect.ListOptions{Account: bs.account, JSON: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestBenchmarkStoreIsValid checks, cheaply, that the store the benchmarks write directly is
// one the commands accept: every user listed, decodable, and found by public key.
func TestBenchmarkStoreIsValid(t *testing.T) {
	t.Parallel()
	bs := newBenchStore(t, 50)
	f := bs.factory()
	list, err := bs.s.ListUsers(bs.account)
	if err != nil || len(list) != 50 {
		t.Fatalf("ListUsers: %d users, %v", len(list), err)
	}
	for i, u := range bs.users {
		if list[i] != u {
			t.Errorf("user %d: listed %+v, written %+v", i, list[i], u)
		}
		if _, _, err := bs.s.User(bs.account, u.Name); err != nil {
			t.Error(err)
		}
		if a, n, err := bs.s.FindUserAnyAccount(u.PublicKey); err != nil || a != bs.account || n != u.Name {
			t.Errorf("find %s: %s/%s %v", u.PublicKey, a, n, err)
		}
	}
	if err := inspect.RunDescribeUser(f, &inspect.DescribeOptions{Name: bs.users[7].PublicKey}); err != nil {
		t.Error(err)
	}
	if err := entity.RunDeleteUser(f, &entity.DeleteUserOptions{Names: []string{bs.users[7].Name}, Account: bs.account}); err != nil {
		t.Error(err)
	}
	if err := entity.RunAddUser(f, &entity.UserOptions{Name: "extra", Account: bs.account}); err != nil {
		t.Error(err)
	}
	if names, _ := bs.s.UserNames(bs.account); len(names) != 50 {
		t.Errorf("%d users after one delete and one add", len(names))
	}
}
