package jwtstore

import (
	"crypto/sha256"
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

// TestStoresCountAndHashByIssuer: every store keeps the issuer of each entry and counts and
// hashes its JWTs by issuer through puts, replacements and deletes; the directory store counts
// the accounts it has not read yet, and reads them to hash.
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
			if n := b.LenIssuedBy(only(xPub)); n != 1 {
				t.Fatalf("LenIssuedBy(X) = %d, want 1", n)
			}
			if h, err := b.HashIssuedBy(only(xPub)); err != nil || h != sha256.Sum256([]byte(aByX)) {
				t.Fatalf("HashIssuedBy(X) is not the hash of A: %v", err)
			}
			aByY := signedBy(t, y, pubA)
			if err := s.Put(pubA, aByY); err != nil {
				t.Fatal(err)
			}
			if n, h := b.LenIssuedBy(only(xPub)), hashOf(only(xPub)); n != 0 || h != ([32]byte{}) {
				t.Fatalf("after A was replaced by Y's: X counts %d, hash %x", n, h)
			}
			if err := s.Delete(pubB); err != nil {
				t.Fatal(err)
			}
			if n, h := b.LenIssuedBy(only(yPub)), hashOf(only(yPub)); n != 1 || h != sha256.Sum256([]byte(aByY)) {
				t.Fatalf("after B was deleted: Y counts %d, and its hash is A's: %v", n, h == sha256.Sum256([]byte(aByY)))
			}
			d, ok := s.(*Dir)
			if !ok {
				return
			}
			d.Close()
			again, err := OpenDir(d.Path(), d.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			if n := again.LenIssuedBy(only(xPub)); n != 1 {
				t.Fatalf("reopened, LenIssuedBy(X) = %d, want 1: A is not read yet", n)
			}
			if h, err := again.HashIssuedBy(only(yPub)); err != nil || h != sha256.Sum256([]byte(aByY)) {
				t.Fatalf("reopened, HashIssuedBy(Y) is not the hash of A: %v", err)
			}
			if n := again.LenIssuedBy(only(xPub)); n != 0 {
				t.Fatalf("reopened and read, LenIssuedBy(X) = %d, want 0", n)
			}
		})
	}
}
