package jwtstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// withoutWAL makes d's rounds sync their files (syncfs, or what the test sets) instead of
// appending to the write-ahead log: the store as it was before the log.
func withoutWAL(t testing.TB, d *Dir) {
	t.Helper()
	c := d.commits
	if c.wal != nil {
		if err := c.wal.close(); err != nil {
			t.Fatal(err)
		}
	}
	c.wal, c.sync = nil, c.full
}

var errNoCheckpoint = errors.New("checkpoints are off in this test")

// crashable opens a store in a new folder whose checkpoints fail (noCheckpoint): closing it
// leaves the log as a crash would.
func crashable(t *testing.T, opts DirOptions) (string, *Dir) {
	t.Helper()
	dir := t.TempDir()
	d := mustOpen(t, dir, opts)
	noCheckpoint(d)
	return dir, d
}

// noCheckpoint makes every checkpoint of d fail, so the write-ahead log keeps every commit until
// the store is closed, as it does when a process dies before its next checkpoint. Call it before
// the first commit.
func noCheckpoint(d *Dir) {
	d.commits.full = func(files, dirs []string) error { return errNoCheckpoint }
}

// warnings collects what a store reports to OnError.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) add(err error) {
	w.mu.Lock()
	w.msgs = append(w.msgs, err.Error())
	w.mu.Unlock()
}

func (w *warnings) has(sub string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.ContainsFunc(w.msgs, func(m string) bool { return strings.Contains(m, sub) })
}

func walPath(dir string) string { return filepath.Join(dir, walDirName, walFileName) }

// walCommits reads the commits the log of the store at dir holds.
func walCommits(t *testing.T, dir string) []walCommit {
	t.Helper()
	payloads, _, problem, err := readWAL(walPath(dir), crc32.MakeTable(crc32.Castagnoli))
	if err != nil || problem != nil {
		t.Fatalf("read write-ahead log: %v, %v", err, problem)
	}
	var out []walCommit
	for _, p := range payloads {
		c, err := decodeCommit(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// logHolds fails unless the log of the store at dir holds want commits.
func logHolds(t *testing.T, dir string, want int, when string) {
	t.Helper()
	if n := len(walCommits(t, dir)); n != want {
		t.Fatalf("log holds %d commits %s, want %d", n, when, want)
	}
}

func mustOpen(t *testing.T, dir string, opts DirOptions) *Dir {
	t.Helper()
	d, err := OpenDir(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustPut(t *testing.T, d *Dir, pub, tok string) {
	t.Helper()
	if err := d.Put(pub, tok); err != nil {
		t.Fatal(err)
	}
}

func serves(t *testing.T, d *Dir, pub, want string) {
	t.Helper()
	got, err := d.Get(pub)
	if want == "" {
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get(%s) = %.20q, %v; want ErrNotFound", pub, got, err)
		}
		if _, err := os.Lstat(d.pathFor(pub)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("file of deleted %s still there: %v", pub, err)
		}
		return
	}
	if err != nil || got != want {
		t.Fatalf("Get(%s) = %.20q, %v; want the acknowledged jwt", pub, got, err)
	}
	if data, err := os.ReadFile(d.pathFor(pub)); err != nil || string(data) != want {
		t.Fatalf("file of %s does not hold the acknowledged jwt: %v", pub, err)
	}
}

// TestWALRedoesAcknowledgedPuts: puts answered before a crash whose files were not yet synced
// (a replaced JWT come back old, a new account's file lost or empty) are redone from the log when
// the store opens again; the log is then empty, and a second open redoes nothing.
func TestWALRedoesAcknowledgedPuts(t *testing.T) {
	t.Parallel()
	for _, shard := range []bool{false, true} {
		dir, d := crashable(t, DirOptions{Shard: shard})
		pubA, tokA1 := newAccountJWT(t, "A")
		pubB, tokB := newAccountJWT(t, "B")
		pubC, tokC := newAccountJWT(t, "C")
		mustPut(t, d, pubA, tokA1)
		mustPut(t, d, pubB, tokB)
		mustPut(t, d, pubC, tokC)
		tokA2 := accountJWTFor(t, pubA, "A2")
		mustPut(t, d, pubA, tokA2)
		logHolds(t, dir, 4, "(the 4 answered)")
		d.Close()
		// The power cut: what was not synced is lost.
		if err := os.WriteFile(d.pathFor(pubA), []byte(tokA1), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(d.pathFor(pubB)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(d.pathFor(pubC), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		var w warnings
		d = mustOpen(t, dir, DirOptions{Shard: shard, OnError: w.add})
		serves(t, d, pubA, tokA2)
		serves(t, d, pubB, tokB)
		serves(t, d, pubC, tokC)
		if d.Len() != 3 {
			t.Fatalf("Len = %d after the redo", d.Len())
		}
		if !w.has("redid 4 commits") {
			t.Fatalf("the redo is not reported: %q", w.msgs)
		}
		logHolds(t, dir, 0, "after the redo")
		d.Close()
		var w2 warnings
		d = mustOpen(t, dir, DirOptions{Shard: shard, OnError: w2.add})
		serves(t, d, pubA, tokA2)
		if len(w2.msgs) != 0 {
			t.Fatalf("second open reports %q", w2.msgs)
		}
		d.Close()
	}
}

// TestWALRedoesDeletesAndRecords: a batch's delete and records are redone (the removed file
// back, the records' lines lost); a record removed after its commit stays removed when nothing
// was lost (a process killed, its files intact).
func TestWALRedoesDeletesAndRecords(t *testing.T) {
	t.Parallel()
	dir, d := crashable(t, DirOptions{})
	pubX, tokX := newAccountJWT(t, "X")
	pubY, tokY := newAccountJWT(t, "Y")
	mustPut(t, d, pubX, tokX)
	err := d.Commit(Batch{
		Records: []Record{{Area: ".outbox", Name: pubY}, {Area: ".deletes", Name: "abc", Data: []byte("42")}, {Area: ".outbox", Name: "gone"}},
		Puts:    []Put{{Pub: pubY, JWT: tokY}},
		Deletes: []string{pubX},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveRecord(".outbox", "gone"); err != nil {
		t.Fatal(err)
	}
	d.Close()

	// Killed, nothing lost: the redo changes nothing, the removed record stays removed.
	d = mustOpen(t, dir, DirOptions{})
	noCheckpoint(d)
	synced := map[string]int64{} // the record logs as the open's redo synced them
	for _, area := range []string{".outbox", ".deletes"} {
		st, err := os.Stat(filepath.Join(dir, area, recordLogName))
		if err != nil {
			t.Fatal(err)
		}
		synced[area] = st.Size()
	}
	serves(t, d, pubX, "")
	serves(t, d, pubY, tokY)
	if recs, _ := d.Records(".outbox"); len(recs) != 1 || recs[0].Name != pubY {
		t.Fatalf("outbox after a kill: %+v, want %s only", recs, pubY)
	}
	// Commit again, then lose the delete and the records' lines.
	err = d.Commit(Batch{
		Records: []Record{{Area: ".outbox", Name: "again"}},
		Deletes: []string{pubY},
	})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if err := os.WriteFile(d.pathFor(pubY), []byte(tokY), 0o644); err != nil {
		t.Fatal(err)
	}
	for area, size := range synced {
		if err := os.Truncate(filepath.Join(dir, area, recordLogName), size); err != nil {
			t.Fatal(err)
		}
	}
	d = mustOpen(t, dir, DirOptions{})
	defer d.Close()
	serves(t, d, pubY, "")
	recs, err := d.Records(".outbox")
	var names []string
	for _, r := range recs {
		names = append(names, r.Name)
	}
	if err != nil || !slices.Equal(names, []string{pubY, "again"}) && !slices.Equal(names, []string{"again", pubY}) {
		t.Fatalf("outbox after the redo: %v, %v", names, err)
	}
	if recs, err := d.Records(".deletes"); err != nil || len(recs) != 1 || string(recs[0].Data) != "42" {
		t.Fatalf("deletes after the redo: %+v, %v", recs, err)
	}
}

// TestWALTornTail: a last record cut short by the crash (its commit never answered) is ignored
// with a warning, the ones before it are redone, and the store opens; a damaged header is
// reported and opens an empty log.
func TestWALTornTail(t *testing.T) {
	t.Parallel()
	pubA, tokA := newAccountJWT(t, "A")
	pubB, tokB := newAccountJWT(t, "B")
	dir, d := crashable(t, DirOptions{})
	mustPut(t, d, pubA, tokA) // the first record, whole
	mustPut(t, d, pubB, tokB) // the second, to be torn
	d.Close()
	data, err := os.ReadFile(walPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	first := walHeaderSize + walRecordHead + int(binary.LittleEndian.Uint32(data[walHeaderSize:]))
	second := first + walRecordHead + int(binary.LittleEndian.Uint32(data[first:]))
	clear(data[second-10 : second]) // the end of B's record never reached the disk
	if err := os.WriteFile(walPath(dir), data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, pub := range []string{pubA, pubB} {
		if err := os.Remove(d.pathFor(pub)); err != nil {
			t.Fatal(err)
		}
	}
	var w warnings
	d = mustOpen(t, dir, DirOptions{OnError: w.add})
	serves(t, d, pubA, tokA)
	serves(t, d, pubB, "")
	if !w.has("torn or damaged record") || !w.has("redid 1 commits") {
		t.Fatalf("warnings: %q", w.msgs)
	}
	d.Close()

	if err := os.WriteFile(walPath(dir), []byte("SGNTWAL1 and then rubbish, enough for a header"), 0o600); err != nil {
		t.Fatal(err)
	}
	var w2 warnings
	d = mustOpen(t, dir, DirOptions{OnError: w2.add})
	defer d.Close()
	serves(t, d, pubA, tokA)
	if !w2.has("damaged header") {
		t.Fatalf("warnings: %q", w2.msgs)
	}
	mustPut(t, d, pubB, tokB)
	logHolds(t, dir, 1, "after a put")
}

// TestWALCheckpoint: a checkpoint empties the log (the records of the files it synced are not
// read again, only those committed after it), and so does a clean Close.
func TestWALCheckpoint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := mustOpen(t, dir, DirOptions{})
	pubA, tokA := newAccountJWT(t, "A")
	pubB, tokB := newAccountJWT(t, "B")
	mustPut(t, d, pubA, tokA)
	logHolds(t, dir, 1, "after a put")
	d.commits.checkpointDue()
	waitUntil(t, "the checkpoint", func() bool { return len(walCommits(t, dir)) == 0 })
	mustPut(t, d, pubB, tokB)
	got := walCommits(t, dir)
	if len(got) != 1 || len(got[0].puts) != 1 || got[0].puts[0].Pub != pubB {
		t.Fatalf("log after the checkpoint and one put: %+v", got)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	logHolds(t, dir, 0, "after Close")
}

// TestWALRecordBeforeAnswer: when the sync that answers a commit begins, the commit's record is
// in the log (the sync is the log's fdatasync: what it covers is what a crash keeps).
func TestWALRecordBeforeAnswer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := mustOpen(t, dir, DirOptions{})
	defer d.Close()
	pub, tok := newAccountJWT(t, "A")
	syncHook(d, func(files, dirs []string) {
		payloads, _, _, err := readWAL(walPath(dir), crc32.MakeTable(crc32.Castagnoli))
		for _, p := range payloads {
			c, _ := decodeCommit(p)
			for _, p := range c.puts {
				if p.Pub == pub && p.JWT == tok {
					return
				}
			}
		}
		t.Errorf("the commit is not in the log when its sync begins (%v)", err)
	})
	mustPut(t, d, pub, tok)
}

// TestWALOnlyForWriters: a read-only store writes no log and reports one its writer left
// unredone; a store that finds the log locked by another process (a signet from before the
// writer lock) leaves the log to it and syncs every commit itself.
func TestWALOnlyForWriters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ro := mustOpen(t, dir, DirOptions{ReadOnly: true})
	ro.Close()
	if _, err := os.Stat(filepath.Join(dir, walDirName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("read-only store made %s: %v", walDirName, err)
	}
	d := mustOpen(t, dir, DirOptions{})
	noCheckpoint(d)
	pub, tok := newAccountJWT(t, "A")
	mustPut(t, d, pub, tok)
	d.writer.Unlock() // as a writer without the folder's writer lock would leave it
	var w warnings
	second := mustOpen(t, dir, DirOptions{OnError: w.add})
	if second.commits.wal != nil || !w.has("in use by another writer") {
		t.Fatalf("second writer: log %v, warnings %q", second.commits.wal, w.msgs)
	}
	pub2, tok2 := newAccountJWT(t, "B")
	mustPut(t, second, pub2, tok2)
	second.Close()
	d.Close()
	var wr warnings
	ro = mustOpen(t, dir, DirOptions{ReadOnly: true, OnError: wr.add})
	defer ro.Close()
	if !wr.has("holds 1 commits not yet in the files") {
		t.Fatalf("read-only store: warnings %q", wr.msgs)
	}
}

// TestSecondWriterRefused: while a writable store has the folder open, opening it writable again
// fails with ErrInUse and changes nothing; read-only stores open alongside; once the writer
// closes, the folder opens writable again.
func TestSecondWriterRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := mustOpen(t, dir, DirOptions{})
	pub, tok := newAccountJWT(t, "A")
	mustPut(t, d, pub, tok)
	before := dirListing(t, dir)
	for _, opts := range []DirOptions{{}, {NoWAL: true}, {Shard: true}} {
		if second, err := OpenDir(dir, opts); !errors.Is(err, ErrInUse) {
			if second != nil {
				second.Close()
			}
			t.Fatalf("second writable open (%+v): %v, want ErrInUse", opts, err)
		} else if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "read-only") {
			t.Errorf("error does not name the folder or the way out: %v", err)
		}
	}
	if after := dirListing(t, dir); !slices.Equal(before, after) {
		t.Errorf("refused opens changed the folder:\n%v\n%v", before, after)
	}
	ro := mustOpen(t, dir, DirOptions{ReadOnly: true})
	if got, err := ro.Get(pub); err != nil || got != tok {
		t.Errorf("read-only store beside the writer: %v", err)
	}
	ro.Close()
	d.Close()
	again := mustOpen(t, dir, DirOptions{})
	defer again.Close()
	if got, err := again.Get(pub); err != nil || got != tok {
		t.Errorf("reopened writer: %v", err)
	}
}

// dirListing names every file and folder under dir (with its size), sorted.
func dirListing(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		out = append(out, fmt.Sprintf("%s %d", p, info.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}
