package accountserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/jwtstore"
)

// bucketServer opens bucket on js for op, as `signet kv` does (nothing listens), and shuts it
// down when the test ends.
func bucketServer(t testing.TB, op *natstest.Operator, js *server.Server, bucket string) *Server {
	t.Helper()
	cfg := testConfig(t, op)
	cfg.Backend = nil
	cfg.Store = StoreConfig{KV: &KVConfig{Servers: []string{js.ClientURL()}, Bucket: bucket}}
	s, err := OpenKVStore(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

// newBucketEnv starts a JetStream server and makes an operator; open opens a bucket of that
// server for the operator (bucketServer).
func newBucketEnv(t testing.TB) (*natstest.Operator, func(testing.TB, string) *Server) {
	t.Helper()
	js := natstest.StartJetStream(t)
	op := natstest.NewOperator(t, "OP")
	return op, func(t testing.TB, bucket string) *Server {
		t.Helper()
		return bucketServer(t, op, js, bucket)
	}
}

// limited is account claims whose conns limit tells versions apart.
func limited(pub string, conns int64) *jwt.AccountClaims {
	ac := jwt.NewAccountClaims(pub)
	ac.Name = "A"
	ac.Limits.Conn = conns
	return ac
}

func mustUpdate(t testing.TB, s *Server, token string) {
	t.Helper()
	if _, err := s.update(token, "", fromHTTP); err != nil {
		t.Fatal(err)
	}
}

// writeJWTFile puts token where a directory store of that layout keeps pub's JWT.
func writeJWTFile(t testing.TB, dir, pub, token string, shard bool) {
	t.Helper()
	if shard {
		dir = filepath.Join(dir, pub[len(pub)-2:])
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, pub+".jwt"), []byte(token), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newAccountKey(t testing.TB) string {
	_, pub := accountKeys(t)
	return pub
}

// accountKeys is a new account key pair and its public key.
func accountKeys(t testing.TB) (nkeys.KeyPair, string) {
	t.Helper()
	kp, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	return kp, pub
}

// userKey is a new user public key.
func userKey(t testing.TB) string {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	return pub
}

func skippedAccounts(l []ImportSkip) []string {
	var out []string
	for _, s := range l {
		out = append(out, s.Account)
	}
	return out
}

// TestImportDirLoadsFlatAndShardedStoresSkippingUntrustedMalformedAndStale: a directory in
// nats-account-server's layout (flat, then sharded) holds two good accounts, one signed by
// another operator, one file that is no JWT, one JWT older than the bucket's and one of the
// bucket's second but different. Only the good ones enter the bucket; the others are reported,
// the bucket keeps its own, and the directory is not touched.
func TestImportDirLoadsFlatAndShardedStoresSkippingUntrustedMalformedAndStale(t *testing.T) {
	t.Parallel()
	op, open := newBucketEnv(t)
	other := natstest.NewOperator(t, "OTHER")
	for _, shard := range []bool{false, true} {
		name, layout := "flat", LayoutFlat
		if shard {
			name, layout = "sharded", LayoutSharded
		}
		t.Run(name, func(t *testing.T) {
			s := open(t, "import_"+name)
			now := time.Now().Unix()
			stalePub, samePub := newAccountKey(t), newAccountKey(t)
			staleNew := encodeWithIAT(t, limited(stalePub, 2), op.KP, now)
			sameHeld := encodeWithIAT(t, limited(samePub, 1), op.KP, now)
			mustUpdate(t, s, staleNew)
			mustUpdate(t, s, sameHeld)

			dir := t.TempDir()
			_, aPub, aTok := op.Account(t, "A")
			_, bPub, bTok := op.Account(t, "B")
			_, uPub, uTok := other.Account(t, "U")
			mPub := newAccountKey(t)
			writeJWTFile(t, dir, aPub, aTok+"\n", shard)
			writeJWTFile(t, dir, bPub, bTok, shard)
			writeJWTFile(t, dir, uPub, uTok, shard)
			writeJWTFile(t, dir, mPub, "this is no jwt", shard)
			writeJWTFile(t, dir, stalePub, encodeWithIAT(t, limited(stalePub, 1), op.KP, now-60), shard)
			writeJWTFile(t, dir, samePub, encodeWithIAT(t, limited(samePub, 7), op.KP, now), shard)
			before := clitest.Snapshot(t, dir)

			rep, err := s.ImportDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Layout != layout {
				t.Errorf("layout %q, want %q", rep.Layout, layout)
			}
			if want := sorted(aPub, bPub); !slices.Equal(rep.Imported, want) {
				t.Errorf("imported %v, want %v", rep.Imported, want)
			}
			if got, want := sorted(skippedAccounts(rep.Stale)...), sorted(stalePub, samePub); !slices.Equal(got, want) {
				t.Errorf("stale %v, want %v", got, want)
			}
			for _, st := range rep.Stale {
				if want := map[string]string{stalePub: "newer", samePub: "same second"}[st.Account]; !strings.Contains(st.Reason, want) {
					t.Errorf("stale %s: reason %q lacks %q", st.Account, st.Reason, want)
				}
			}
			if len(rep.Refused) != 1 || rep.Refused[0].Account != uPub || !strings.Contains(rep.Refused[0].Reason, ErrUntrusted.Error()) {
				t.Errorf("refused %+v, want only %s as untrusted", rep.Refused, uPub)
			}
			if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], mPub) {
				t.Errorf("warnings %q, want one about the file of %s", rep.Warnings, mPub)
			}

			// What the bucket holds, read by another opener of it (not this one's copy).
			reader := open(t, "import_"+name)
			want := map[string]string{aPub: aTok, bPub: bTok, stalePub: staleNew, samePub: sameHeld}
			for pub, tok := range want {
				if got, err := reader.Store().Get(pub); err != nil || got != tok {
					t.Errorf("bucket holds %q (%v) for %s, want %q", got, err, pub, tok)
				}
			}
			for _, pub := range []string{uPub, mPub} {
				if _, err := reader.KV().History(pub); !errors.Is(err, jwtstore.ErrNotFound) {
					t.Errorf("%s entered the bucket (history: %v)", pub, err)
				}
			}
			if after := clitest.Snapshot(t, dir); !mapsEqual(before, after) {
				t.Errorf("import changed the directory")
			}

			// Again: nothing new.
			rep, err = s.ImportDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Imported) != 0 || !slices.Equal(rep.Unchanged, sorted(aPub, bPub)) {
				t.Errorf("second import: imported %v, unchanged %v", rep.Imported, rep.Unchanged)
			}
		})
	}
}

func sorted(l ...string) []string {
	out := slices.Clone(l)
	slices.Sort(out)
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestImportDirRefusesWhatHoldsNoDirectoryStoreAndChangesNothing: a missing path, a file, an
// empty directory and one without JWT files are errors, and the bucket stays empty.
func TestImportDirRefusesWhatHoldsNoDirectoryStoreAndChangesNothing(t *testing.T) {
	t.Parallel()
	_, open := newBucketEnv(t)
	s := open(t, "refuse")
	base := t.TempDir()
	file := filepath.Join(base, "file.jwt")
	other := filepath.Join(base, "other")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(other, "notes"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "README"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]string{
		filepath.Join(base, "missing"): "no such file",
		file:                           "not a directory",
		t.TempDir():                    "holds no account jwt files",
		other:                          "holds no account jwt files",
	} {
		_, err := s.ImportDir(dir)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("import %s: %v, want an error with %q", dir, err, want)
		}
	}
	if n := s.Store().Len(); n != 0 {
		t.Errorf("bucket holds %d accounts after refused imports", n)
	}
}

// TestExportThenImportGivesTheSameJWTs: the accounts of one bucket written out (flat, then
// sharded) and imported into an empty bucket are the very same JWTs, in the layout asked for.
func TestExportThenImportGivesTheSameJWTs(t *testing.T) {
	t.Parallel()
	op, open := newBucketEnv(t)
	src := open(t, "src")
	accounts := op.Accounts(t, 12)
	for _, tok := range accounts {
		mustUpdate(t, src, tok)
	}
	for _, shard := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "out")
		rep, err := src.ExportDir(dir, shard, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Written) != len(accounts) {
			t.Fatalf("wrote %d accounts, want %d", len(rep.Written), len(accounts))
		}
		for pub, tok := range accounts {
			p := filepath.Join(dir, pub+".jwt")
			if shard {
				p = filepath.Join(dir, pub[len(pub)-2:], pub+".jwt")
			}
			if data, err := os.ReadFile(p); err != nil || string(data) != tok {
				t.Errorf("%s: %v, not the bucket's jwt", p, err)
			}
		}
		dst := open(t, fmt.Sprintf("dst_%v", shard))
		irep, err := dst.ImportDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(irep.Imported) != len(accounts) || len(irep.Refused)+len(irep.Stale)+len(irep.Warnings) != 0 {
			t.Errorf("import of the export: %+v", irep)
		}
		for pub, tok := range accounts {
			if got, _ := dst.Store().Get(pub); got != tok {
				t.Errorf("round trip of %s: got %q, want %q", pub, got, tok)
			}
		}
	}
}

// TestExportRefusesADirectoryThatIsNotEmptyUnlessForced: without --force nothing is written
// into a directory holding a file; with it the accounts are written and the file is left.
func TestExportRefusesADirectoryThatIsNotEmptyUnlessForced(t *testing.T) {
	t.Parallel()
	op, open := newBucketEnv(t)
	s := open(t, "export")
	_, pub, tok := op.Account(t, "A")
	mustUpdate(t, s, tok)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	foreign := newAccountKey(t)
	writeJWTFile(t, dir, foreign, "old", false)
	before := clitest.Snapshot(t, dir)
	if _, err := s.ExportDir(dir, false, false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("export into a non-empty directory: %v, want a refusal naming --force", err)
	}
	if !mapsEqual(before, clitest.Snapshot(t, dir)) {
		t.Fatal("a refused export changed the directory")
	}
	rep, err := s.ExportDir(dir, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Others != 1 {
		t.Errorf("others %d, want 1 (the file of %s)", rep.Others, foreign)
	}
	after := clitest.Snapshot(t, dir)
	if after[filepath.Join(dir, "keep.txt")] != "mine" || after[filepath.Join(dir, pub+".jwt")] != tok {
		t.Errorf("forced export: %v", after)
	}
	if _, err := s.ExportDir(filepath.Join(dir, "keep.txt"), false, true); err == nil {
		t.Error("export into a file succeeded")
	}
}

// TestHistoryListsEveryRevisionOldestFirstWithItsDeletion: three versions and a deletion are
// four revisions, with their iat, hash and trust; at least five are kept by default.
func TestHistoryListsEveryRevisionOldestFirstWithItsDeletion(t *testing.T) {
	t.Parallel()
	op, open := newBucketEnv(t)
	s := open(t, "history")
	pub := newAccountKey(t)
	now := time.Now().Unix()
	var toks []string
	for i := range 6 {
		tok := encodeWithIAT(t, limited(pub, int64(i+1)), op.KP, now-int64(60-i))
		mustUpdate(t, s, tok)
		toks = append(toks, tok)
	}
	if _, err := s.deleteAccounts(deleteRequest(t, op.KP, time.Minute, pub), "", false); err != nil {
		t.Fatal(err)
	}
	hist, err := s.History(pub)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != len(toks)+1 {
		t.Fatalf("%d revisions, want %d", len(hist), len(toks)+1)
	}
	for i, tok := range toks {
		h := hist[i]
		sum := sha256.Sum256([]byte(tok))
		if h.Deleted || h.JWT != tok || h.IssuedAt != now-int64(60-i) || h.SHA256 != hex.EncodeToString(sum[:]) || !h.Trusted || h.Name != "A" {
			t.Errorf("revision %d: %+v", i, h)
		}
		if i > 0 && h.Revision <= hist[i-1].Revision {
			t.Errorf("revisions not increasing: %d after %d", h.Revision, hist[i-1].Revision)
		}
	}
	if last := hist[len(hist)-1]; !last.Deleted || last.JWT != "" {
		t.Errorf("last revision %+v, want the deletion", last)
	}
	if _, err := s.History(newAccountKey(t)); !errors.Is(err, jwtstore.ErrNotFound) {
		t.Errorf("history of an unknown account: %v", err)
	}
}

// operatorSign re-issues claims with the operator key, after their iat.
func operatorSign(t testing.TB, kp nkeys.KeyPair) SignFunc {
	return func(ac *jwt.AccountClaims) (string, error) {
		return encodeWithIAT(t, ac, kp, max(time.Now().Unix(), ac.IssuedAt+1)), nil
	}
}

// TestRollbackReissuesTheOldClaimsWithANewerIAT: after conns 1 then 5, a rollback to the
// first revision makes conns 1 current again in a JWT issued after the second, as a new
// revision that every opener of the bucket sees.
func TestRollbackReissuesTheOldClaimsWithANewerIAT(t *testing.T) {
	t.Parallel()
	op, open := newBucketEnv(t)
	s := open(t, "rollback")
	pub := newAccountKey(t)
	now := time.Now().Unix()
	mustUpdate(t, s, encodeWithIAT(t, limited(pub, 1), op.KP, now-20))
	mustUpdate(t, s, encodeWithIAT(t, limited(pub, 5), op.KP, now-10))
	hist, err := s.History(pub)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Rollback(pub, hist[0].Revision, operatorSign(t, op.KP))
	if err != nil {
		t.Fatal(err)
	}
	if res.Replaced != hist[1].Revision || res.Revision <= hist[1].Revision || res.AlreadyCurrent {
		t.Errorf("result %+v", res)
	}
	reader := open(t, "rollback")
	tok, err := reader.Store().Get(pub)
	if err != nil {
		t.Fatal(err)
	}
	ac, err := VerifyAccountJWT(reader.Operator(), tok, pub)
	if err != nil {
		t.Fatal(err)
	}
	if ac.Limits.Conn != 1 || ac.IssuedAt <= now-10 || ac.IssuedAt != res.IssuedAt {
		t.Errorf("current claims: conns %d, iat %d (the replaced one: %d)", ac.Limits.Conn, ac.IssuedAt, now-10)
	}
	if after, _ := reader.History(pub); len(after) != 3 || after[2].Revision != res.Revision {
		t.Errorf("history after the rollback: %+v", after)
	}
	again, err := s.Rollback(pub, res.Revision, operatorSign(t, op.KP))
	if err != nil || !again.AlreadyCurrent {
		t.Errorf("rollback to the current revision: %+v, %v", again, err)
	}
}

// TestRefusedRollbackWritesNothing: an unknown revision, the deletion, an untrusted revision,
// a signer that fails or signs with a foreign key, and a bucket that moved on while the
// rollback signed: each is refused and the account stays as it was (the last one as the
// other writer left it).
func TestRefusedRollbackWritesNothing(t *testing.T) {
	t.Parallel()
	op, open := newBucketEnv(t)
	other := natstest.NewOperator(t, "OTHER")
	s := open(t, "refused")
	replica := open(t, "refused")
	pub := newAccountKey(t)
	now := time.Now().Unix()
	mustUpdate(t, s, encodeWithIAT(t, limited(pub, 1), op.KP, now-30))
	// Written by someone holding the bucket's credentials, without verification: kept in the
	// history, never served.
	if err := s.KV().Put(pub, encodeWithIAT(t, limited(pub, 2), other.KP, now-25)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.deleteAccounts(deleteRequest(t, op.KP, time.Minute, pub), "", false); err != nil {
		t.Fatal(err)
	}
	// The deletion's revision reaches the local copy by the watch; a write decided before it
	// arrives conflicts, and the retry does not get past a deleted account (Refresh answers
	// ErrNotFound): wait for it.
	deleted, err := s.History(pub)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the deletion in the local copy", func() bool {
		e, _ := s.Store().Entry(pub)
		return e.Revision == deleted[len(deleted)-1].Revision
	})
	mustUpdate(t, s, encodeWithIAT(t, limited(pub, 3), op.KP, now+1)) // issued after the deletion: a deleted account comes back only so
	hist, err := s.History(pub)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 4 {
		t.Fatalf("history %+v, want 4 revisions", hist)
	}
	first, untrusted, deletion := hist[0].Revision, hist[1].Revision, hist[2].Revision
	failing := func(*jwt.AccountClaims) (string, error) { return "", errors.New("no operator key here") }
	cases := []struct {
		name   string
		rev    uint64
		sign   SignFunc
		want   string
		reason error
	}{
		{"unknown revision", hist[3].Revision + 10, operatorSign(t, op.KP), "keeps no revision", nil},
		{"deletion", deletion, operatorSign(t, op.KP), "is its deletion", nil},
		{"untrusted revision", untrusted, operatorSign(t, op.KP), "not signed by the operator", nil},
		{"signer fails", first, failing, "no operator key here", nil},
		{"foreign signer", first, operatorSign(t, other.KP), "", ErrUntrusted},
	}
	for _, c := range cases {
		_, err := s.Rollback(pub, c.rev, c.sign)
		if err == nil || !strings.Contains(err.Error(), c.want) || (c.reason != nil && !errors.Is(err, c.reason)) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
		if got, _ := replica.History(pub); len(got) != len(hist) {
			t.Fatalf("%s: the bucket holds %d revisions, want %d", c.name, len(got), len(hist))
		}
	}

	// Another replica writes while the rollback signs: the rollback's compare-and-set fails.
	meanwhile := encodeWithIAT(t, limited(pub, 4), op.KP, now+2)
	racing := func(ac *jwt.AccountClaims) (string, error) {
		mustUpdate(t, replica, meanwhile)
		return operatorSign(t, op.KP)(ac)
	}
	if _, err := s.Rollback(pub, first, racing); !errors.Is(err, ErrMovedOn) {
		t.Fatalf("rollback while the bucket moved on: %v, want ErrMovedOn", err)
	}
	if got, err := replica.Store().Get(pub); err != nil || got != meanwhile {
		t.Errorf("after the refused rollback the bucket holds %q (%v), want the other write", got, err)
	}
	if got, _ := replica.History(pub); len(got) != len(hist)+1 {
		t.Errorf("the refused rollback wrote: %d revisions, want %d", len(got), len(hist)+1)
	}
}
