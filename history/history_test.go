package history_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/history"
	"github.com/signet-dev/signet/store"
)

// newStore makes an operator store with one account whose limit was changed once, all
// through a recording hook: three records (operator created, account created, updated).
func newStore(t *testing.T) (*store.Store, nkeys.KeyPair, *jwt.AccountClaims) {
	t.Helper()
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	oc := jwt.NewOperatorClaims(opub)
	oc.Name = "O"
	otok, err := oc.Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	stores := store.Stores{Dir: t.TempDir(), Hook: history.Recorder{Who: "alice"}}
	s, err := stores.Create("O", otok, false)
	if err != nil {
		t.Fatal(err)
	}
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	ac := jwt.NewAccountClaims(apub)
	ac.Name = "A"
	tok, _ := ac.Encode(okp)
	if err := s.SaveAccount("A", tok); err != nil {
		t.Fatal(err)
	}
	ac.Limits.Conn = 5
	tok, _ = ac.Encode(okp)
	if err := s.SaveAccount("A", tok); err != nil {
		t.Fatal(err)
	}
	return s, okp, ac
}

func TestEveryStoreWriteIsRecordedWithWhoWhatAndTheChangedFields(t *testing.T) {
	s, _, ac := newStore(t)
	recs, err := history.Read(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("got %d records, want 3: %+v", len(recs), recs)
	}
	if recs[0].Kind != store.KindOperator || recs[0].Action != history.Created || recs[0].Who != "alice" {
		t.Errorf("first record = %+v, want alice creating the operator", recs[0])
	}
	upd := recs[2]
	if upd.Action != history.Updated || upd.Account != "A" || upd.Subject != ac.Subject {
		t.Errorf("third record = %+v, want an update of account A", upd)
	}
	if upd.JWTBefore == "" || upd.JWTAfter == "" || upd.JWTBefore != recs[1].JWTAfter {
		t.Errorf("JWT hashes do not chain: created after %q, updated before %q", recs[1].JWTAfter, upd.JWTBefore)
	}
	var conn *history.Field
	for i, f := range upd.Fields {
		if f.Path == "iat" || f.Path == "jti" {
			t.Errorf("field %s is recorded; it changes with every signature", f.Path)
		}
		if f.Path == "nats.limits.conn" {
			conn = &upd.Fields[i]
		}
	}
	if conn == nil || conn.Before != "-1" || conn.After != "5" {
		t.Errorf("conn limit change = %+v, want -1 -> 5 (fields %+v)", conn, upd.Fields)
	}
	if upd.Prev != recs[1].Hash || recs[1].Prev != recs[0].Hash {
		t.Error("records do not carry the hash of the one before")
	}
	if n, err := history.Verify(s); err != nil || n != 3 {
		t.Fatalf("Verify = %d, %v; want 3 records and no error", n, err)
	}
}

func TestDeletesAreRecorded(t *testing.T) {
	s, _, _ := newStore(t)
	if err := s.DeleteAccount("A"); err != nil {
		t.Fatal(err)
	}
	recs, _ := history.Read(s)
	last := recs[len(recs)-1]
	if last.Action != history.Deleted || last.Name != "A" || last.JWTAfter != "" || last.JWTBefore == "" {
		t.Errorf("last record = %+v, want the deletion of A", last)
	}
}

func rewrite(t *testing.T, s *store.Store, edit func(lines []string) []string) {
	t.Helper()
	data, err := os.ReadFile(history.Path(s))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	lines = edit(lines)
	if err := os.WriteFile(history.Path(s), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func badRecord(t *testing.T, err error) *history.BadRecordError {
	t.Helper()
	var bad *history.BadRecordError
	if !errors.As(err, &bad) {
		t.Fatalf("Verify error = %v, want a BadRecordError", err)
	}
	return bad
}

func TestVerifyNamesAnEditedRecord(t *testing.T) {
	s, _, _ := newStore(t)
	rewrite(t, s, func(l []string) []string {
		l[1] = strings.Replace(l[1], `"who":"alice"`, `"who":"mallory"`, 1)
		return l
	})
	_, err := history.Verify(s)
	if bad := badRecord(t, err); bad.Seq != 2 || !strings.Contains(bad.Reason, "edited") {
		t.Errorf("got %v, want record 2 named as edited", err)
	}
}

func TestVerifyNamesTheRecordAfterARemovedOne(t *testing.T) {
	s, _, _ := newStore(t)
	rewrite(t, s, func(l []string) []string { return append(l[:1], l[2:]...) })
	_, err := history.Verify(s)
	if bad := badRecord(t, err); bad.Seq != 3 || !strings.Contains(bad.Reason, "removed") {
		t.Errorf("got %v, want record 3 named as following a removed record", err)
	}
}

func TestVerifyCatchesRemovedLastRecord(t *testing.T) {
	s, _, _ := newStore(t)
	rewrite(t, s, func(l []string) []string { return l[:2] })
	_, err := history.Verify(s)
	if bad := badRecord(t, err); bad.Seq != 3 || !strings.Contains(bad.Reason, "removed") {
		t.Errorf("got %v, want record 3 reported missing", err)
	}
}

func TestVerifyCatchesARecordRehashedAfterAnEdit(t *testing.T) {
	// Someone who edits a record and recomputes its hash still breaks the next record's link.
	s, _, _ := newStore(t)
	recs, _ := history.Read(s)
	recs[1].Who = "mallory"
	rewrite(t, s, func(l []string) []string {
		l[1] = string(history.RehashedForTest(t, recs[1]))
		return l
	})
	_, err := history.Verify(s)
	if bad := badRecord(t, err); bad.Seq != 3 {
		t.Errorf("got %v, want record 3 (which no longer follows record 2)", err)
	}
}

func TestHistoryDoesNotHoldJWTsOrSeeds(t *testing.T) {
	s, okp, _ := newStore(t)
	data, _ := os.ReadFile(history.Path(s))
	seed, _ := okp.Seed()
	tok, _ := s.AccountJWT("A")
	if bytes.Contains(data, seed) || bytes.Contains(data, []byte(tok)) {
		t.Error("the history holds a seed or a whole JWT")
	}
}
