package jwtstore

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"
)

// The write-ahead log of a writable directory store, <dir>/.wal/log. Each round of the group
// commit appends one record per commit (enough to redo it: its JWT puts, its deletes and its
// records) and makes the log durable with one fdatasync; the JWT files themselves are renamed
// into place before the commit is queued, as before, but not synced one by one. From time to
// time (a checkpoint) one syncfs makes every renamed file durable and the log is emptied. At
// open, whatever the log still holds is redone, so a commit answered before a crash is there
// after it.
//
// The file is allocated ahead (zeros written once) and records overwrite it in place, so the
// fdatasync of a round writes the round's bytes and flushes the disk's cache, and needs no
// journal commit of the file system (the file's size and blocks do not change). Emptying the
// log does not truncate it: it starts a new epoch, written in the header, and a record counts
// only when its epoch is the header's, so what an earlier epoch left in the file is never read.
//
//	header (32 bytes): "SGNTWAL1", epoch (uint64 LE), crc32c of the 16 bytes before, zeros
//	record:            payload length (uint32 LE), crc32c of epoch+payload (uint32 LE),
//	                   epoch (uint64 LE), payload (a commit, see encodeCommit)
//
// A record with a length of zero or another epoch ends the log; one of the header's epoch whose
// checksum fails is a torn write (a round cut short by a crash, never answered) and ends it too.
const (
	walDirName     = ".wal"
	walFileName    = "log"
	walMagic       = "SGNTWAL1"
	walHeaderSize  = 32
	walRecordHead  = 16
	walMinSize     = 64 << 10
	walGrowMax     = 4 << 20
	walKeepSize    = 32 << 20 // a log grown past this by a large batch shrinks at its checkpoint
	walMaxRecord   = 1 << 30
	walCheckpointB = 8 << 20         // checkpoint once the log holds this much
	walCheckpointT = 5 * time.Second // or this long after its first record
)

// wal is the open write-ahead log. Only the committer's goroutine uses it once the store is open.
type wal struct {
	dir   string // <store>/.wal
	path  string
	f     *os.File
	tab   *crc32.Table
	epoch uint64
	off   int64 // where the next record goes
	size  int64 // bytes allocated (zeros or older records)
}

// openWAL opens (creating it) the log of the store at root and takes its lock. It returns nil
// when another writer holds the lock: that store owns the log, and this one syncs every round.
func openWAL(root string) (*wal, error) {
	dir := filepath.Join(root, walDirName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, walFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	locked, err := tryLock(f)
	if err != nil || !locked {
		f.Close()
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &wal{dir: dir, path: path, f: f, tab: crc32.MakeTable(crc32.Castagnoli), size: st.Size()}, nil
}

// walCommit is one commit read back from the log.
type walCommit struct {
	puts    []Put
	deletes []string
	records []walRecord
}

// walRecord is a record of a commit and where its line went in its area's log.
type walRecord struct {
	Record
	off int64
}

// readWAL reads the commits of the log at path. problem describes a header or record that is
// damaged (a torn last record, most likely); what follows it is not read. err is an I/O error.
func readWAL(path string, tab *crc32.Table) (commits [][]byte, epoch uint64, problem, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil, nil
	}
	if err != nil {
		return nil, 0, nil, err
	}
	if len(data) < walHeaderSize {
		if len(data) > 0 {
			problem = fmt.Errorf("%s: header cut short (%d bytes)", path, len(data))
		}
		return nil, 0, problem, nil
	}
	if string(data[:8]) != walMagic || crc32.Checksum(data[:16], tab) != binary.LittleEndian.Uint32(data[16:20]) {
		return nil, 0, fmt.Errorf("%s: damaged header, its records are ignored", path), nil
	}
	epoch = binary.LittleEndian.Uint64(data[8:16])
	off := int64(walHeaderSize)
	for off+walRecordHead <= int64(len(data)) {
		h := data[off : off+walRecordHead]
		n := int64(binary.LittleEndian.Uint32(h[0:4]))
		if n == 0 || binary.LittleEndian.Uint64(h[8:16]) != epoch {
			return commits, epoch, nil, nil // the end: zeros, or what an earlier epoch left
		}
		end := off + walRecordHead + n
		if end > int64(len(data)) || crc32.Update(crc32.Checksum(h[8:16], tab), tab, data[off+walRecordHead:end]) != binary.LittleEndian.Uint32(h[4:8]) {
			return commits, epoch, fmt.Errorf("%s: torn or damaged record at offset %d (a commit never answered), ignored with the %d bytes after it", path, off, int64(len(data))-off), nil
		}
		commits = append(commits, data[off+walRecordHead:end])
		off = end
	}
	return commits, epoch, nil, nil
}

// write puts one record per payload at the end of the log, in one write, without syncing.
func (w *wal) write(payloads [][]byte) error {
	n := 0
	for _, p := range payloads {
		n += walRecordHead + len(p)
	}
	if n == 0 {
		return nil
	}
	buf := make([]byte, 0, n)
	var ep [8]byte
	binary.LittleEndian.PutUint64(ep[:], w.epoch)
	for _, p := range payloads {
		if len(p) > walMaxRecord {
			return fmt.Errorf("commit of %d bytes is too large for the write-ahead log", len(p))
		}
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(p)))
		buf = binary.LittleEndian.AppendUint32(buf, crc32.Update(crc32.Checksum(ep[:], w.tab), w.tab, p))
		buf = append(buf, ep[:]...)
		buf = append(buf, p...)
	}
	if w.off+int64(n) > w.size {
		if err := w.grow(w.off + int64(n)); err != nil {
			return err
		}
	}
	if _, err := w.f.WriteAt(buf, w.off); err != nil {
		return err
	}
	w.off += int64(n)
	return nil
}

// grow allocates the log up to at least need bytes by writing zeros (not a hole, nor fallocate's
// unwritten extents: writing over either changes the file's metadata, which costs a journal
// commit at each fdatasync). The round's fdatasync makes the new size durable.
func (w *wal) grow(need int64) error {
	size := max(w.size, walMinSize/2)
	for size < need {
		size += min(size, walGrowMax)
	}
	zeros := make([]byte, 64<<10)
	for at := w.size; at < size; {
		n := min(int64(len(zeros)), size-at)
		if _, err := w.f.WriteAt(zeros[:n], at); err != nil {
			return err
		}
		at += n
	}
	w.size = size
	return nil
}

// sync makes what write wrote durable.
func (w *wal) sync() error { return fdatasync(w.f) }

// records reports whether the log holds records of the current epoch.
func (w *wal) records() bool { return w.off > walHeaderSize }

// reset empties the log: a new epoch in the header, synced. A log grown past walKeepSize is cut
// back. Records of the old epoch stay in the file, and no longer count.
func (w *wal) reset(epoch uint64) error {
	if epoch <= w.epoch {
		epoch = w.epoch + 1
	}
	if w.size < walMinSize {
		if err := w.grow(walMinSize); err != nil {
			return err
		}
	}
	var h [walHeaderSize]byte
	copy(h[:], walMagic)
	binary.LittleEndian.PutUint64(h[8:16], epoch)
	binary.LittleEndian.PutUint32(h[16:20], crc32.Checksum(h[:16], w.tab))
	if _, err := w.f.WriteAt(h[:], 0); err != nil {
		return err
	}
	sync := w.sync
	if w.size > walKeepSize {
		if err := w.f.Truncate(walCheckpointB); err != nil {
			return err
		}
		w.size, sync = walCheckpointB, w.f.Sync
	}
	if err := sync(); err != nil {
		return err
	}
	w.epoch, w.off = epoch, walHeaderSize
	return nil
}

// discard removes the log, for when it cannot be reset: it must not be redone at the next open,
// since the files are now newer than its records.
func (w *wal) discard() error {
	w.f.Close()
	if err := os.Remove(w.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return fsyncPath(w.dir)
}

func (w *wal) close() error { return w.f.Close() }

// Commits in the log: a sequence of entries, each a kind byte then its fields, strings and
// byte strings as a uvarint length and the bytes, offsets as uvarints.
const (
	walKindPut    = 'P' // pub, jwt
	walKindDelete = 'D' // pub
	walKindRecord = 'R' // area, name, data, offset of its line in the area's log
)

// encodeCommit is the log's payload for a commit: its records (with where their lines went),
// its puts and its deletes.
func encodeCommit(recs []Record, offs []int64, puts []Put, deletes []string) []byte {
	n := 0
	for _, r := range recs {
		n += len(r.Area) + len(r.Name) + len(r.Data) + 32
	}
	for _, p := range puts {
		n += len(p.Pub) + len(p.JWT) + 16
	}
	for _, d := range deletes {
		n += len(d) + 8
	}
	b := make([]byte, 0, n)
	str := func(s string) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	for i, r := range recs {
		b = append(b, walKindRecord)
		str(r.Area)
		str(r.Name)
		str(string(r.Data))
		b = binary.AppendUvarint(b, uint64(offs[i]))
	}
	for _, p := range puts {
		b = append(b, walKindPut)
		str(p.Pub)
		str(p.JWT)
	}
	for _, d := range deletes {
		b = append(b, walKindDelete)
		str(d)
	}
	return b
}

var errWALPayload = errors.New("damaged commit in the write-ahead log")

func decodeCommit(b []byte) (walCommit, error) {
	var c walCommit
	num := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	str := func() (string, bool) {
		n, ok := num()
		if !ok || n > uint64(len(b)) {
			return "", false
		}
		s := string(b[:n])
		b = b[n:]
		return s, true
	}
	for len(b) > 0 {
		kind := b[0]
		b = b[1:]
		switch kind {
		case walKindRecord:
			area, ok1 := str()
			name, ok2 := str()
			data, ok3 := str()
			off, ok4 := num()
			if !ok1 || !ok2 || !ok3 || !ok4 || off > 1<<62 {
				return c, errWALPayload
			}
			c.records = append(c.records, walRecord{Record: Record{Area: area, Name: name, Data: []byte(data)}, off: int64(off)})
		case walKindPut:
			pub, ok1 := str()
			jwt, ok2 := str()
			if !ok1 || !ok2 {
				return c, errWALPayload
			}
			c.puts = append(c.puts, Put{Pub: pub, JWT: jwt})
		case walKindDelete:
			pub, ok := str()
			if !ok {
				return c, errWALPayload
			}
			c.deletes = append(c.deletes, pub)
		default:
			return c, errWALPayload
		}
	}
	return c, nil
}

// recoverWAL opens the store's log, redoes what it holds, makes that durable with full and
// starts a new epoch. A damaged header or record is reported, never fatal: everything before
// it is redone, and what follows it was never answered. It returns nil (no log) when another
// writer holds the log's lock.
func (d *Dir) recoverWAL(full syncFunc) (*wal, error) {
	w, err := openWAL(d.dir)
	if err != nil {
		return nil, fmt.Errorf("write-ahead log: %w", err)
	}
	if w == nil {
		d.report(fmt.Errorf("%s is in use by another writer: this store syncs every commit instead", filepath.Join(d.dir, walDirName, walFileName)))
		return nil, nil
	}
	payloads, epoch, problem, err := readWAL(w.path, w.tab)
	if err != nil {
		w.close()
		return nil, fmt.Errorf("read write-ahead log: %w", err)
	}
	if problem != nil {
		d.report(problem)
	}
	w.epoch = epoch
	var commits []walCommit
	for i, p := range payloads {
		c, err := decodeCommit(p)
		if err != nil {
			d.report(fmt.Errorf("%s: commit %d of %d: %w; it and the ones after it are ignored", w.path, i+1, len(payloads), err))
			break
		}
		commits = append(commits, c)
	}
	if len(commits) > 0 {
		files, dirs, err := d.redo(commits)
		if err == nil {
			err = full(files, dirs)
		}
		if err != nil {
			w.close()
			return nil, fmt.Errorf("redo write-ahead log: %w", err)
		}
		d.report(fmt.Errorf("redid %d commits from %s (the store was not closed cleanly)", len(commits), w.path))
	} else if w.size == 0 {
		// A new log: its folder's entry and its own must be durable before any record counts.
		if err := errors.Join(w.reset(uint64(time.Now().UnixNano())), fsyncPath(w.dir), fsyncPath(d.dir)); err != nil {
			w.close()
			return nil, fmt.Errorf("create write-ahead log: %w", err)
		}
		return w, nil
	}
	// Always a new epoch: whatever this log held, or what a torn round left after it, is never
	// read again.
	if err := w.reset(max(epoch+1, uint64(time.Now().UnixNano()))); err != nil {
		w.close()
		return nil, fmt.Errorf("reset write-ahead log: %w", err)
	}
	return w, nil
}

// redo brings the files in line with commits, in order: each account's file holds the JWT of
// its last put (or is gone after its last delete), and each record's line is in its area's log.
// It returns the files and folders it touched or checked, for the sync that follows.
func (d *Dir) redo(commits []walCommit) (files, dirs []string, err error) {
	last := map[string]*string{} // pub -> the JWT of its last put, nil after a delete
	byArea := map[string][]walRecord{}
	for _, c := range commits {
		for _, r := range c.records {
			if checkRecord(r.Record) != nil {
				d.report(fmt.Errorf("write-ahead log: skipped record %q/%q: %w", r.Area, r.Name, ErrBadRecord))
				continue
			}
			byArea[r.Area] = append(byArea[r.Area], r)
		}
		for _, p := range c.puts {
			jwt := p.JWT
			last[p.Pub] = &jwt
		}
		for _, pub := range c.deletes {
			last[pub] = nil
		}
	}
	areas := make([]string, 0, len(byArea))
	for a := range byArea {
		areas = append(areas, a)
	}
	sort.Strings(areas)
	for _, area := range areas {
		l, err := d.redoRecords(area, byArea[area])
		if err != nil {
			return nil, nil, err
		}
		files, dirs = append(files, l.path), append(dirs, l.dir)
	}
	pubs := make([]string, 0, len(last))
	for pub := range last {
		pubs = append(pubs, pub)
	}
	sort.Strings(pubs)
	for _, pub := range pubs {
		if !validKey(pub) {
			d.report(fmt.Errorf("write-ahead log: skipped invalid key %q", pub))
			continue
		}
		path := d.pathFor(pub)
		dirs = append(dirs, filepath.Dir(path))
		jwt := last[pub]
		if jwt == nil {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, nil, fmt.Errorf("delete account jwt %s: %w", pub, err)
			}
			continue
		}
		files = append(files, path)
		if st, err := os.Lstat(path); err == nil && st.Mode().IsRegular() && st.Size() == int64(len(*jwt)) {
			if cur, err := os.ReadFile(path); err == nil && string(cur) == *jwt {
				continue
			}
		}
		op := &commitOp{}
		err := op.stage(filepath.Dir(path), path, []byte(*jwt))
		if err == nil {
			err = op.apply()
		}
		op.discard()
		if err != nil {
			return nil, nil, fmt.Errorf("store account jwt %s: %w", pub, err)
		}
	}
	return files, dirs, nil
}

// redoRecords makes sure the lines of recs are in area's log. A record's line is there when the
// log holds it at the offset it was written to; from the first that is not (the log lost its
// end in a crash), every line of recs is appended again, in the order they had. A line that
// follows in the log and is not in recs (a removal, or a commit never answered) then comes
// before them: a removal lost that way leaves a record acted on once more, as Committer allows.
func (d *Dir) redoRecords(area string, recs []walRecord) (*recordLog, error) {
	d.logsMu.Lock()
	defer d.logsMu.Unlock()
	l, err := d.logFor(area)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(l.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read records %s: %w", area, err)
	}
	slices.SortStableFunc(recs, func(a, b walRecord) int { return cmp.Compare(a.off, b.off) })
	for i, r := range recs {
		line := []byte(recordLine('+', r.Name, r.Data))
		if r.off+int64(len(line)) <= int64(len(data)) && bytes.Equal(data[r.off:r.off+int64(len(line))], line) {
			continue
		}
		again := make([]Record, 0, len(recs)-i)
		for _, r := range recs[i:] {
			again = append(again, r.Record)
		}
		if _, err := l.append(again, false); err != nil {
			return nil, fmt.Errorf("store records %s: %w", area, err)
		}
		break
	}
	return l, nil
}

// pendingWAL reports, for a read-only store, a log that holds commits: its writer stopped
// without a checkpoint, and the files may lack what the log would redo.
func (d *Dir) pendingWAL() {
	path := filepath.Join(d.dir, walDirName, walFileName)
	commits, _, _, err := readWAL(path, crc32.MakeTable(crc32.Castagnoli))
	if err == nil && len(commits) > 0 {
		d.report(fmt.Errorf("%s holds %d commits not yet in the files (its writer stopped uncleanly); open the store writable to redo them", path, len(commits)))
	}
}
