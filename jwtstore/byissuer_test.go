package jwtstore

import (
	"crypto/sha256"
	"maps"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// signedBy signs account pub's JWT with kp.
func signedBy(t testing.TB, kp nkeys.KeyPair, pub string) string {
	t.Helper()
	tok, err := jwt.NewAccountClaims(pub).Encode(kp)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func only(iss string) func(string) bool { return func(s string) bool { return s == iss } }

// reopen closes d and opens its folder again, with nothing read yet; the test closes it.
func reopen(t *testing.T, d *Dir) *Dir {
	t.Helper()
	d.Close()
	again, err := OpenDir(d.Path(), d.opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { again.Close() })
	return again
}

// lenOf is the count of LenIssuedBy, the store having read all it holds.
func lenOf(b ByIssuer, keep func(string) bool) int {
	n, _ := b.LenIssuedBy(keep)
	return n
}

// TestStoresCountAndHashByIssuer: every store keeps the issuer of each entry and counts and
// hashes its JWTs by issuer through puts, replacements and deletes; the directory store counts
// the accounts it has not read yet apart (unread), and reads them to hash.
func TestStoresCountAndHashByIssuer(t *testing.T) {
	x, _ := nkeys.CreateOperator()
	y, _ := nkeys.CreateOperator()
	xPub, _ := x.PublicKey()
	yPub, _ := y.PublicKey()
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := mk(t)
			defer s.Close()
			b := s.(ByIssuer)
			hashOf := func(keep func(string) bool) [sha256.Size]byte {
				t.Helper()
				h, err := b.HashIssuedBy(keep)
				if err != nil {
					t.Fatal(err)
				}
				return h
			}
			pubA, _ := newAccountJWT(t, "A")
			pubB, _ := newAccountJWT(t, "B")
			aByX, bByY := signedBy(t, x, pubA), signedBy(t, y, pubB)
			for pub, tok := range map[string]string{pubA: aByX, pubB: bByY} {
				if err := s.Put(pub, tok); err != nil {
					t.Fatal(err)
				}
			}
			if e, err := s.Entry(pubA); err != nil || e.Issuer != xPub {
				t.Fatalf("Entry(A).Issuer = %q, %v; want X", e.Issuer, err)
			}
			if n, unread := b.LenIssuedBy(only(xPub)); n != 1 || unread != 0 {
				t.Fatalf("LenIssuedBy(X) = %d, %d unread; want 1, 0", n, unread)
			}
			if h, err := b.HashIssuedBy(only(xPub)); err != nil || h != sha256.Sum256([]byte(aByX)) {
				t.Fatalf("HashIssuedBy(X) is not the hash of A: %v", err)
			}
			aByY := signedBy(t, y, pubA)
			if err := s.Put(pubA, aByY); err != nil {
				t.Fatal(err)
			}
			if n, h := lenOf(b, only(xPub)), hashOf(only(xPub)); n != 0 || h != ([32]byte{}) {
				t.Fatalf("after A was replaced by Y's: X counts %d, hash %x", n, h)
			}
			if err := s.Delete(pubB); err != nil {
				t.Fatal(err)
			}
			if n, h := lenOf(b, only(yPub)), hashOf(only(yPub)); n != 1 || h != sha256.Sum256([]byte(aByY)) {
				t.Fatalf("after B was deleted: Y counts %d, and its hash is A's: %v", n, h == sha256.Sum256([]byte(aByY)))
			}
			d, ok := s.(*Dir)
			if !ok {
				return
			}
			again := reopen(t, d)
			if n, unread := again.LenIssuedBy(only(yPub)); n != 0 || unread != 1 {
				t.Fatalf("reopened, LenIssuedBy(Y) = %d, %d unread; want 0, 1: A is not read yet", n, unread)
			}
			if h, err := again.HashIssuedBy(only(yPub)); err != nil || h != sha256.Sum256([]byte(aByY)) {
				t.Fatalf("reopened, HashIssuedBy(Y) is not the hash of A: %v", err)
			}
			if n, unread := again.LenIssuedBy(only(xPub)); n != 0 || unread != 0 {
				t.Fatalf("reopened and read, LenIssuedBy(X) = %d, %d unread; want 0, 0", n, unread)
			}
			if n, unread := again.LenIssuedBy(only(yPub)); n != 1 || unread != 0 {
				t.Fatalf("reopened and read, LenIssuedBy(Y) = %d, %d unread; want 1, 0", n, unread)
			}
		})
	}
}

// rangeIssuedBy collects what RangeIssuedBy(keep) hands out, by account.
func rangeIssuedBy(t *testing.T, b ByIssuer, keep func(string) bool) map[string]Entry {
	t.Helper()
	got := map[string]Entry{}
	if err := b.RangeIssuedBy(keep, func(pub string, e Entry) bool { got[pub] = e; return true }); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestStoresRangeOverTheJWTsOfKeptIssuersWithTheirEntries: every store ranges over the JWTs of
// the issuers keep accepts, each with its entry (JWT, hash, times, issuer), and stops when fn
// says so; a directory store reopened (nothing read yet) reads its files to learn their issuers.
func TestStoresRangeOverTheJWTsOfKeptIssuersWithTheirEntries(t *testing.T) {
	x, _ := nkeys.CreateOperator()
	y, _ := nkeys.CreateOperator()
	xPub, _ := x.PublicKey()
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := mk(t)
			defer s.Close()
			pubA, _ := newAccountJWT(t, "A")
			pubB, _ := newAccountJWT(t, "B")
			pubC, _ := newAccountJWT(t, "C")
			want := map[string]string{pubA: signedBy(t, x, pubA), pubC: signedBy(t, x, pubC)}
			for pub, tok := range map[string]string{pubA: want[pubA], pubB: signedBy(t, y, pubB), pubC: want[pubC]} {
				if err := s.Put(pub, tok); err != nil {
					t.Fatal(err)
				}
			}
			check := func(when string, b ByIssuer) {
				t.Helper()
				got := rangeIssuedBy(t, b, only(xPub))
				if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want))) {
					t.Fatalf("%s: ranged over %d accounts, want A and C (X's)", when, len(got))
				}
				for pub, e := range got {
					if e != NewEntry(want[pub]) {
						t.Fatalf("%s: the entry of %s is not its JWT's: %+v", when, pub, e)
					}
				}
				calls := 0
				if err := b.RangeIssuedBy(only(xPub), func(string, Entry) bool { calls++; return false }); err != nil || calls != 1 {
					t.Fatalf("%s: fn said stop and was called %d times (%v)", when, calls, err)
				}
			}
			check("after the puts", s.(ByIssuer))
			d, ok := s.(*Dir)
			if !ok {
				return
			}
			again := reopen(t, d)
			check("reopened", again)
			if _, unread := again.LenIssuedBy(only(xPub)); unread != 0 {
				t.Fatalf("reopened and ranged: %d accounts still unread, want 0 (B read to learn its issuer)", unread)
			}
		})
	}
}

// TestDirRangeByIssuerLeavesKnownRefusedFilesUnread: an account whose file the directory store
// has read, of an issuer keep refuses, is passed over from the index: its file is not read again
// (a store that keeps no JWT in memory would read a file per refused account at every range).
// Range itself still reads every file.
func TestDirRangeByIssuerLeavesKnownRefusedFilesUnread(t *testing.T) {
	t.Parallel()
	x, _ := nkeys.CreateOperator()
	y, _ := nkeys.CreateOperator()
	xPub, _ := x.PublicKey()
	var (
		mu       sync.Mutex
		reported []error
	)
	d, err := OpenDir(t.TempDir(), DirOptions{MaxCached: -1, OnError: func(err error) {
		mu.Lock()
		defer mu.Unlock()
		reported = append(reported, err)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	pubA, _ := newAccountJWT(t, "A")
	pubB, _ := newAccountJWT(t, "B")
	if err := d.Put(pubA, signedBy(t, x, pubA)); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(pubB, signedBy(t, y, pubB)); err != nil {
		t.Fatal(err)
	}
	// B's file no longer holds its JWT: a store that reads it skips it and reports it.
	if err := os.WriteFile(d.pathFor(pubB), []byte("not a jwt"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := rangeIssuedBy(t, d, only(xPub)); len(got) != 1 || got[pubA].JWT == "" {
		t.Fatalf("ranged over %d accounts, want A", len(got))
	}
	mu.Lock()
	n := len(reported)
	mu.Unlock()
	if n != 0 || d.Len() != 2 {
		t.Fatalf("a range over X's accounts read Y's B: %d reports (%v), %d accounts left", n, reported, d.Len())
	}
	if err := d.Range(func(string, string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if d.Len() != 1 {
		t.Fatalf("Range did not read B's file: %d accounts", d.Len())
	}
}
