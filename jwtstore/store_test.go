package jwtstore

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// accountJWTFor signs another version of account pub's JWT (a JWT in the store must be for its key).
func accountJWTFor(t testing.TB, pub, name string) string {
	t.Helper()
	op, err := nkeys.CreateOperator()
	if err != nil {
		t.Fatal(err)
	}
	ac := jwt.NewAccountClaims(pub)
	ac.Name = name
	tok, err := ac.Encode(op)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func newAccountJWT(t testing.TB, name string) (string, string) {
	t.Helper()
	op, err := nkeys.CreateOperator()
	if err != nil {
		t.Fatal(err)
	}
	akp, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := akp.PublicKey()
	ac := jwt.NewAccountClaims(pub)
	ac.Name = name
	tok, err := ac.Encode(op)
	if err != nil {
		t.Fatal(err)
	}
	return pub, tok
}

func backends(t *testing.T) map[string]func(t *testing.T) Store {
	return map[string]func(t *testing.T) Store{
		"memory": func(t *testing.T) Store { return NewMemory() },
		"dir": func(t *testing.T) Store {
			d, err := OpenDir(t.TempDir(), DirOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		"dir-shard": func(t *testing.T) Store {
			d, err := OpenDir(t.TempDir(), DirOptions{Shard: true})
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		"dir-nocache": func(t *testing.T) Store {
			d, err := OpenDir(t.TempDir(), DirOptions{MaxCached: -1})
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
	}
}

func TestStoreContract(t *testing.T) {
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := mk(t)
			defer s.Close()
			pubA, jwtA := newAccountJWT(t, "A")
			pubB, jwtB := newAccountJWT(t, "B")
			if _, err := s.Get(pubA); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get on empty store: %v, want ErrNotFound", err)
			}
			if err := s.Put(pubA, jwtA); err != nil {
				t.Fatal(err)
			}
			if err := s.Put(pubB, jwtB); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(pubA)
			if err != nil || got != jwtA {
				t.Fatalf("Get A = %q, %v", got, err)
			}
			e, err := s.Entry(pubB)
			if err != nil || e.JWT != jwtB || e.Hash != sha256.Sum256([]byte(jwtB)) || e.IssuedAt == 0 {
				t.Fatalf("Entry B = %+v, %v", e, err)
			}
			if s.Len() != 2 {
				t.Fatalf("Len = %d", s.Len())
			}
			want := sha256.Sum256([]byte(jwtA))
			xorInto(&want, sha256.Sum256([]byte(jwtB)))
			if h, err := s.Hash(); err != nil || h != want {
				t.Fatalf("Hash = %x, %v; want %x", h, err, want)
			}
			// Replace A: the hash follows.
			jwtA2 := accountJWTFor(t, pubA, "A2")
			if err := s.Put(pubA, jwtA2); err != nil {
				t.Fatal(err)
			}
			want = sha256.Sum256([]byte(jwtA2))
			xorInto(&want, sha256.Sum256([]byte(jwtB)))
			if h, _ := s.Hash(); h != want {
				t.Fatalf("Hash after replace = %x, want %x", h, want)
			}
			seen := map[string]string{}
			if err := s.Range(func(pub, jwt string) bool { seen[pub] = jwt; return true }); err != nil {
				t.Fatal(err)
			}
			if len(seen) != 2 || seen[pubA] != jwtA2 || seen[pubB] != jwtB {
				t.Fatalf("Range saw %v", seen)
			}
			if err := s.Delete(pubA); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete(pubA); err != nil {
				t.Fatalf("second delete: %v", err)
			}
			if _, err := s.Get(pubA); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get after delete: %v", err)
			}
			if h, _ := s.Hash(); h != sha256.Sum256([]byte(jwtB)) {
				t.Fatalf("Hash after delete = %x", h)
			}
			if s.Len() != 1 {
				t.Fatalf("Len after delete = %d", s.Len())
			}
		})
	}
}

func TestDirLayoutAndReopen(t *testing.T) {
	for _, shard := range []bool{false, true} {
		t.Run(fmt.Sprintf("shard=%v", shard), func(t *testing.T) {
			dir := t.TempDir()
			d, err := OpenDir(dir, DirOptions{Shard: shard})
			if err != nil {
				t.Fatal(err)
			}
			pub, tok := newAccountJWT(t, "A")
			if err := d.Put(pub, tok); err != nil {
				t.Fatal(err)
			}
			want := filepath.Join(dir, pub+".jwt")
			if shard {
				want = filepath.Join(dir, pub[len(pub)-2:], pub+".jwt")
			}
			data, err := os.ReadFile(want)
			if err != nil || string(data) != tok {
				t.Fatalf("file %s: %q, %v", want, data, err)
			}
			leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(want), ".*tmp*"))
			if len(leftovers) != 0 {
				t.Fatalf("temporary files left: %v", leftovers)
			}
			d.Close()
			d2, err := OpenDir(dir, DirOptions{Shard: shard})
			if err != nil {
				t.Fatal(err)
			}
			defer d2.Close()
			if got, err := d2.Get(pub); err != nil || got != tok {
				t.Fatalf("after reopen Get = %q, %v", got, err)
			}
			if h, _ := d2.Hash(); h != sha256.Sum256([]byte(tok)) {
				t.Fatalf("hash after reopen = %x", h)
			}
		})
	}
}

func TestDirRejectsBadKeys(t *testing.T) {
	d, err := OpenDir(t.TempDir(), DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"", "A", "../../etc/passwd", "abc", "A/B", "A\x00B"} {
		if err := d.Put(k, "x.y.z"); err == nil {
			t.Errorf("Put(%q) accepted", k)
		}
	}
}

func TestDirReadOnlyWatch(t *testing.T) {
	for _, shard := range []bool{false, true} {
		t.Run(fmt.Sprintf("shard=%v", shard), func(t *testing.T) {
			dir := t.TempDir()
			pub, tok := newAccountJWT(t, "A")
			type change struct{ pub, jwt string }
			changes := make(chan change, 16)
			d, err := OpenDir(dir, DirOptions{Shard: shard, ReadOnly: true, OnChange: func(pub, jwt string) {
				changes <- change{pub, jwt}
			}})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if err := d.Put(pub, tok); !errors.Is(err, ErrReadOnly) {
				t.Fatalf("Put on read-only store: %v", err)
			}
			// Something else writes the directory, the way a git checkout would.
			writer, err := OpenDir(dir, DirOptions{Shard: shard})
			if err != nil {
				t.Fatal(err)
			}
			if err := writer.Put(pub, tok); err != nil {
				t.Fatal(err)
			}
			waitFor := func(want change) {
				t.Helper()
				deadline := time.After(10 * time.Second)
				for {
					select {
					case c := <-changes:
						if c == want {
							return
						}
					case <-deadline:
						t.Fatalf("no change %v reported", want)
					}
				}
			}
			waitFor(change{pub, tok})
			if got, err := d.Get(pub); err != nil || got != tok {
				t.Fatalf("Get after external write = %q, %v", got, err)
			}
			if err := writer.Delete(pub); err != nil {
				t.Fatal(err)
			}
			waitFor(change{pub, ""})
			if _, err := d.Get(pub); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get after external delete: %v", err)
			}
		})
	}
}

// TestDirReload: with no watcher running, Reload alone brings the store in line with the
// directory: a new file is served, a rewritten file's new JWT replaces the old one, a removed
// file is gone, and each change is reported once (an unchanged directory reports nothing).
func TestDirReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	type change struct{ pub, jwt string }
	var mu sync.Mutex
	var changed []change
	d, err := OpenDir(dir, DirOptions{ReadOnly: true, OnChange: func(pub, jwt string) {
		mu.Lock()
		changed = append(changed, change{pub, jwt})
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	d.Close() // no watcher: only Reload can find the change
	reload := func(what string, want ...change) {
		t.Helper()
		mu.Lock()
		changed = nil
		mu.Unlock()
		if err := d.Reload(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(changed) != fmt.Sprint(want) {
			t.Fatalf("%s: Reload reported %v, want %v", what, changed, want)
		}
	}
	serves := func(what, pub, want string) {
		t.Helper()
		got, err := d.Get(pub)
		if want == "" {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s: Get = %.20q, %v; want ErrNotFound", what, got, err)
			}
			return
		}
		if err != nil || got != want {
			t.Fatalf("%s: Get = %.20q, %v; want the jwt in the file", what, got, err)
		}
	}
	pub, tok := newAccountJWT(t, "A")
	path := filepath.Join(dir, pub+".jwt")
	if err := os.WriteFile(path, []byte(tok), 0o644); err != nil {
		t.Fatal(err)
	}
	serves("before reload", pub, "")
	reload("new file", change{pub, tok})
	serves("new file", pub, tok)
	if d.Len() != 1 {
		t.Fatalf("Len = %d", d.Len())
	}
	reload("nothing changed")

	tok2 := accountJWTFor(t, pub, "A2")
	if err := os.WriteFile(path, []byte(tok2), 0o644); err != nil {
		t.Fatal(err)
	}
	reload("rewritten file", change{pub, tok2})
	serves("rewritten file", pub, tok2)
	if h, _ := d.Hash(); h != sha256.Sum256([]byte(tok2)) {
		t.Fatalf("hash after reload = %x, want that of the new jwt", h)
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	reload("removed file", change{pub, ""})
	serves("removed file", pub, "")
	if d.Len() != 0 {
		t.Fatalf("Len after removal = %d", d.Len())
	}
}

// TestDirConcurrentPutGet: while writers replace one account's JWT over and over, every read
// (through the writing store, and through a second store reading the same directory the way a
// nats-server or a read-only signet would) returns one of the complete JWTs written, never a
// partial or empty file, and the store's hash ends up matching what it holds.
func TestDirConcurrentPutGet(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d, err := OpenDir(dir, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := newAccountJWT(t, "A")
	toks := make([]string, 8)
	written := map[string]bool{}
	for i := range toks {
		toks[i] = accountJWTFor(t, pub, fmt.Sprint(i))
		written[toks[i]] = true
	}
	if err := d.Put(pub, toks[0]); err != nil {
		t.Fatal(err)
	}
	// The second store caches nothing, so every Get reads the file.
	reader, err := OpenDir(dir, DirOptions{ReadOnly: true, MaxCached: -1})
	if err != nil {
		t.Fatal(err)
	}
	check := func(who string, got string, err error) bool {
		if err != nil {
			t.Errorf("%s: read during writes: %v", who, err)
			return false
		}
		if !written[got] {
			t.Errorf("%s: read %d bytes that are none of the written jwts (torn write?): %.40q", who, len(got), got)
			return false
		}
		return true
	}
	const rounds = 8
	done := make(chan struct{})
	var writers, readers sync.WaitGroup
	for i := range toks {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for range rounds {
				if err := d.Put(pub, toks[i]); err != nil {
					t.Errorf("Put: %v", err)
					return
				}
			}
		}()
	}
	for _, r := range []struct {
		name string
		s    *Dir
	}{{"writing store", d}, {"second store", reader}, {"second store", reader}} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				got, err := r.s.Get(pub)
				if !check(r.name, got, err) {
					return
				}
			}
		}()
	}
	writers.Wait()
	close(done)
	readers.Wait()
	got, err := d.Get(pub)
	check("after writes", got, err)
	if h, _ := d.Hash(); h != sha256.Sum256([]byte(got)) {
		t.Fatalf("hash %x does not match stored jwt", h)
	}
	if data, err := os.ReadFile(filepath.Join(dir, pub+".jwt")); err != nil || string(data) != got {
		t.Fatalf("file holds other content than the store serves: %v", err)
	}
}

// BenchmarkOpenDir measures loading the index of a large store (files are created once):
// 100,000 accounts, or SIGNET_BENCH_ACCOUNTS of them.
func BenchmarkOpenDir(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("SIGNET_BENCH_ACCOUNTS")); err == nil && v > 0 {
		n = v
	}
	dir := b.TempDir()
	_, tok := newAccountJWT(b, "A")
	for i := 0; i < n; i++ {
		var raw [32]byte
		binary.BigEndian.PutUint64(raw[:], uint64(i)+1)
		pub, _ := nkeys.Encode(nkeys.PrefixByteAccount, raw[:])
		if err := os.WriteFile(filepath.Join(dir, string(pub)+".jwt"), []byte(tok), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	// A sub-benchmark, so that the files are made once however often the timed part runs.
	b.Run(fmt.Sprintf("accounts=%d", n), func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			d, err := OpenDir(dir, DirOptions{})
			if err != nil || d.Len() != n {
				b.Fatalf("open: %v, len %d", err, d.Len())
			}
		}
	})
}

func BenchmarkDirGet(b *testing.B) {
	for _, maxCached := range []int{0, -1} {
		b.Run(fmt.Sprintf("cached=%v", maxCached == 0), func(b *testing.B) {
			d, err := OpenDir(b.TempDir(), DirOptions{MaxCached: maxCached})
			if err != nil {
				b.Fatal(err)
			}
			pub, tok := newAccountJWT(b, "A")
			if err := d.Put(pub, tok); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := d.Get(pub); err != nil {
						b.Error(err)
					}
				}
			})
		})
	}
}

func BenchmarkDirPut(b *testing.B) {
	d, err := OpenDir(b.TempDir(), DirOptions{})
	if err != nil {
		b.Fatal(err)
	}
	pub, tok := newAccountJWT(b, "A")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.Put(pub, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// syncHook replaces d's sync with one that first calls hook with the round's files and folders.
func syncHook(d *Dir, hook func(files, dirs []string)) {
	real := d.commits.sync
	d.commits.sync = func(files, dirs []string) error {
		hook(files, dirs)
		return real(files, dirs)
	}
}

// putAsync runs d.Put in a goroutine; the channel gets its result.
func putAsync(d *Dir, pub, tok string) <-chan error {
	done := make(chan error, 1)
	go func() { done <- d.Put(pub, tok) }()
	return done
}

// putWaitingForSync is d.Put in a goroutine of its own, named so that parkedInCommit finds it.
func putWaitingForSync(d *Dir, pub, tok string, done chan<- error) { done <- d.Put(pub, tok) }

// parkedInCommit reports whether a goroutine started by fn waits for its commit's answer.
func parkedInCommit(fn string) bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "[chan receive") && strings.Contains(g, "jwtstore.(*committer).submit") &&
			strings.Contains(g, "jwtstore."+fn) {
			return true
		}
	}
	return false
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// TestDirPutIsAnsweredOnlyAfterItsSync: a Put renames its JWT into place whole and returns only
// after a sync that began once the JWT was in place. The test holds that sync and sees the Put
// still waiting for its answer.
func TestDirPutIsAnsweredOnlyAfterItsSync(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d, err := OpenDir(dir, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	pub, tok := newAccountJWT(t, "A")
	final := filepath.Join(dir, pub+".jwt")
	entered, release := make(chan struct{}), make(chan struct{})
	var enterOnce, releaseOnce sync.Once
	defer releaseOnce.Do(func() { close(release) }) // before Close, which waits for the rounds
	syncHook(d, func(files, dirs []string) {
		if data, err := os.ReadFile(final); err != nil || string(data) != tok {
			t.Errorf("the JWT is not in place when the sync covering it begins: %v", err)
		}
		enterOnce.Do(func() { close(entered) })
		<-release
	})
	done := make(chan error, 1)
	go putWaitingForSync(d, pub, tok, done)
	select {
	case <-entered:
	case err := <-done:
		t.Fatalf("Put returned (%v) before any sync", err)
	}
	waitUntil(t, "the Put to wait for its answer, or return", func() bool {
		select {
		case err := <-done:
			t.Fatalf("Put returned (%v) while the sync covering it was under way", err)
		default:
		}
		return parkedInCommit("putWaitingForSync")
	})
	releaseOnce.Do(func() { close(release) })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestDirConcurrentPutsShareSyncs: 15 Puts to different accounts made while a sync is under way
// are all covered by the next sync, instead of two fsyncs each.
func TestDirConcurrentPutsShareSyncs(t *testing.T) {
	t.Parallel()
	d, err := OpenDir(t.TempDir(), DirOptions{Shard: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var (
		mu     sync.Mutex
		rounds int
	)
	first, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	defer releaseOnce.Do(func() { close(release) }) // before Close, which waits for the rounds
	syncHook(d, func(files, dirs []string) {
		mu.Lock()
		rounds++
		n := rounds
		mu.Unlock()
		if n == 1 {
			close(first)
			<-release
		}
	})
	const n = 16
	toks := map[string]string{}
	stripes := map[uint64]bool{} // distinct key locks: no Put waits for another's lock
	for len(toks) < n {
		pub, tok := newAccountJWT(t, "A")
		if st := maphash.String(d.seed, pub) % uint64(len(d.locks)); !stripes[st] {
			stripes[st] = true
			toks[pub] = tok
		}
	}
	var dones []<-chan error
	started := false
	for pub, tok := range toks {
		dones = append(dones, putAsync(d, pub, tok))
		if !started {
			<-first // the first Put's sync is under way; the others queue behind it
			started = true
		}
	}
	waitUntil(t, "the other Puts to queue", func() bool {
		d.commits.mu.Lock()
		defer d.commits.mu.Unlock()
		return len(d.commits.queue) == n-1
	})
	releaseOnce.Do(func() { close(release) })
	for _, done := range dones {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	got := rounds
	mu.Unlock()
	if got > 2 {
		t.Fatalf("%d Puts took %d syncs, want 2 (one for the first, one shared by the rest)", n, got)
	}
	for pub, tok := range toks {
		if data, err := os.ReadFile(d.pathFor(pub)); err != nil || string(data) != tok {
			t.Fatalf("%s not stored: %v", pub, err)
		}
	}
}

// TestDirRecords: records are committed with JWT changes, listed, survive a reopen, and are
// removed; names that could escape their folder are refused; a read-only store refuses commits.
func TestDirRecords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d, err := OpenDir(dir, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pub, tok := newAccountJWT(t, "A")
	gone, goneTok := newAccountJWT(t, "B")
	if err := d.Put(gone, goneTok); err != nil {
		t.Fatal(err)
	}
	err = d.Commit(Batch{
		Records: []Record{{Area: ".outbox", Name: pub}, {Area: ".deletes", Name: "abc", Data: []byte("42")}},
		Puts:    []Put{{Pub: pub, JWT: tok}},
		Deletes: []string{gone},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Get(pub); got != tok {
		t.Fatal("JWT of the batch not stored")
	}
	if _, err := d.Get(gone); !errors.Is(err, ErrNotFound) {
		t.Fatalf("JWT deleted by the batch: %v", err)
	}
	for _, bad := range []Record{{Area: "outbox", Name: "x"}, {Area: ".outbox", Name: "../x"}, {Area: ".a/b", Name: "x"}, {Area: ".outbox", Name: ".x"}, {Area: ".outbox", Name: ""}} {
		if err := d.Commit(Batch{Records: []Record{bad}}); !errors.Is(err, ErrBadRecord) {
			t.Errorf("record %q/%q: %v", bad.Area, bad.Name, err)
		}
	}
	d.Close()
	d, err = OpenDir(dir, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Len() != 1 {
		t.Fatalf("record folders are counted as accounts: Len = %d", d.Len())
	}
	recs, err := d.Records(".deletes")
	if err != nil || len(recs) != 1 || recs[0].Name != "abc" || string(recs[0].Data) != "42" {
		t.Fatalf("records after reopen: %+v, %v", recs, err)
	}
	if err := d.RemoveRecord(".outbox", pub); err != nil {
		t.Fatal(err)
	}
	if recs, _ := d.Records(".outbox"); len(recs) != 0 {
		t.Fatalf("removed record listed: %+v", recs)
	}
	if recs, err := d.Records(".never"); err != nil || len(recs) != 0 {
		t.Fatalf("area never written: %+v, %v", recs, err)
	}
	ro, err := OpenDir(dir, DirOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Commit(Batch{Records: []Record{{Area: ".outbox", Name: "x"}}}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only commit: %v", err)
	}
}

// TestDirEmptyFileIsAbsent: an empty JWT file (what a crash can leave of a new account whose
// write was never answered) is no account: Get finds nothing and the file is removed.
func TestDirEmptyFileIsAbsent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pub, _ := newAccountJWT(t, "A")
	path := filepath.Join(dir, pub+".jwt")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(dir, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Get(pub); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of an empty file: %v", err)
	}
	if d.Len() != 0 {
		t.Fatalf("Len = %d", d.Len())
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("empty file kept: %v", err)
	}
}
