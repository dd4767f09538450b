package jwtstore

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// recordLogName is the file of a record area in a directory store.
const recordLogName = "log"

// compactAfter: a record log is rewritten when it holds this many lines more than four times its
// live records (removals append lines; they never shrink the file).
const compactAfter = 1024

// recordLog is one record area of a directory store: an append-only file <dir>/<area>/log of
// lines "+ <name> <data in base64url>" and "- <name>", the last line for a name winning. A
// record costs the write of one line, not a file of its own (which would double the metadata
// work of a commit); the line is made durable by the sync of the commit that writes it, in the
// same round as the commit's JWT files. A line torn by a crash belonged to a commit that was
// never answered and is dropped when the log is opened.
type recordLog struct {
	dir   string // the area's folder
	path  string
	f     *os.File // opened for appending; nil for a read-only store
	live  map[string][]byte
	lines int
	size  int64 // where the next line goes (the write-ahead log keeps it, see redoRecords)
}

// readRecordLog parses path; a missing file is an empty log. It returns the live records, the
// number of complete lines and the length of the complete lines (a torn last line is not).
func readRecordLog(path string) (map[string][]byte, int, int64, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string][]byte{}, 0, 0, nil
	}
	if err != nil {
		return nil, 0, 0, err
	}
	live := map[string][]byte{}
	lines := 0
	complete := int64(bytes.LastIndexByte(data, '\n') + 1)
	sc := bufio.NewScanner(bytes.NewReader(data[:complete]))
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		lines++
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 2 && f[0] == "-" && validRecordName(f[1]):
			delete(live, f[1])
		case len(f) >= 2 && f[0] == "+" && validRecordName(f[1]):
			var v []byte
			if len(f) > 2 {
				if v, err = base64.RawURLEncoding.DecodeString(f[2]); err != nil {
					continue // damaged line: the record is as before it
				}
			}
			live[f[1]] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, 0, 0, err
	}
	return live, lines, complete, nil
}

// openRecordLog reads the log of an area and opens it for appending, creating the area's
// folder; a torn last line is cut off first.
func openRecordLog(dir string) (*recordLog, error) {
	path := filepath.Join(dir, recordLogName)
	live, lines, complete, err := readRecordLog(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.Size() > complete {
		if err := f.Truncate(complete); err != nil {
			f.Close()
			return nil, err
		}
	}
	return &recordLog{dir: dir, path: path, f: f, live: live, lines: lines, size: complete}, nil
}

func recordLine(op byte, name string, data []byte) string {
	if op == '-' {
		return "- " + name + "\n"
	}
	return "+ " + name + " " + base64.RawURLEncoding.EncodeToString(data) + "\n"
}

// append writes lines (one write call) and applies them to the live records. It returns the
// offset of each line in the file.
func (l *recordLog) append(recs []Record, remove bool) ([]int64, error) {
	var b strings.Builder
	offs := make([]int64, len(recs))
	for i, r := range recs {
		offs[i] = l.size + int64(b.Len())
		if remove {
			b.WriteString(recordLine('-', r.Name, nil))
		} else {
			b.WriteString(recordLine('+', r.Name, r.Data))
		}
	}
	if _, err := l.f.WriteString(b.String()); err != nil {
		if st, serr := l.f.Stat(); serr == nil {
			l.size = st.Size()
		}
		return nil, err
	}
	l.size += int64(b.Len())
	for _, r := range recs {
		if remove {
			delete(l.live, r.Name)
		} else {
			l.live[r.Name] = append([]byte(nil), r.Data...)
		}
	}
	l.lines += len(recs)
	return offs, nil
}

func (l *recordLog) records(area string) []Record {
	names := make([]string, 0, len(l.live))
	for n := range l.live {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Record, 0, len(names))
	for _, n := range names {
		out = append(out, Record{Area: area, Name: n, Data: append([]byte(nil), l.live[n]...)})
	}
	return out
}

// compactable reports whether the log is mostly removed records.
func (l *recordLog) compactable() bool {
	return l.lines > compactAfter+4*len(l.live)
}

// compact rewrites the log with its live records only, through c (temporary file, sync, rename,
// sync), and reopens it for appending.
func (l *recordLog) compact(c *committer) error {
	var b strings.Builder
	for _, r := range l.records("") {
		b.WriteString(recordLine('+', r.Name, r.Data))
	}
	op := &commitOp{full: true} // the log's lines move: the write-ahead log's offsets no longer hold
	defer op.discard()
	if err := op.stage(l.dir, l.path, []byte(b.String())); err != nil {
		return err
	}
	err := c.submit(op)
	if !op.applied {
		return err
	}
	f, oerr := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if oerr != nil {
		return errors.Join(err, oerr)
	}
	l.f.Close()
	l.f, l.lines, l.size = f, len(l.live), int64(b.Len())
	return err
}

// logFor returns the record log of area, opening it on first use. d.logsMu must be held.
func (d *Dir) logFor(area string) (*recordLog, error) {
	if l, ok := d.logs[area]; ok {
		return l, nil
	}
	l, err := openRecordLog(filepath.Join(d.dir, area))
	if err != nil {
		return nil, fmt.Errorf("open records %s: %w", area, err)
	}
	d.logs[area] = l
	return l, nil
}

// Records implements Committer.
func (d *Dir) Records(area string) ([]Record, error) {
	if !validArea(area) {
		return nil, fmt.Errorf("records %q: %w", area, ErrBadRecord)
	}
	if d.opts.ReadOnly {
		live, _, _, err := readRecordLog(filepath.Join(d.dir, area, recordLogName))
		if err != nil {
			return nil, fmt.Errorf("read records %s: %w", area, err)
		}
		return (&recordLog{live: live}).records(area), nil
	}
	d.logsMu.Lock()
	defer d.logsMu.Unlock()
	l, err := d.logFor(area)
	if err != nil {
		return nil, err
	}
	return l.records(area), nil
}

// Record implements Committer.
func (d *Dir) Record(area, name string) ([]byte, bool, error) {
	if err := checkRecord(Record{Area: area, Name: name}); err != nil {
		return nil, false, err
	}
	if d.opts.ReadOnly {
		live, _, _, err := readRecordLog(filepath.Join(d.dir, area, recordLogName))
		if err != nil {
			return nil, false, fmt.Errorf("read records %s: %w", area, err)
		}
		data, ok := live[name]
		return data, ok, nil
	}
	d.logsMu.Lock()
	defer d.logsMu.Unlock()
	l, err := d.logFor(area)
	if err != nil {
		return nil, false, err
	}
	data, ok := l.live[name]
	return append([]byte(nil), data...), ok, nil
}

// RemoveRecord implements Committer.
func (d *Dir) RemoveRecord(area, name string) error {
	if err := checkRecord(Record{Area: area, Name: name}); err != nil {
		return err
	}
	if d.opts.ReadOnly {
		return ErrReadOnly
	}
	d.logsMu.Lock()
	defer d.logsMu.Unlock()
	l, err := d.logFor(area)
	if err != nil {
		return err
	}
	if _, ok := l.live[name]; !ok {
		return nil
	}
	if _, err := l.append([]Record{{Area: area, Name: name}}, true); err != nil {
		return fmt.Errorf("remove record %s/%s: %w", area, name, err)
	}
	if l.compactable() {
		if err := l.compact(d.commits); err != nil {
			return fmt.Errorf("compact records %s: %w", area, err)
		}
	}
	return nil
}

// appendRecords writes the records of a commit to their logs and adds the logs to op, so the
// commit's sync makes them durable (the write-ahead log's record, or the round's sync without
// one). It returns the offset of each record's line in its log.
func (d *Dir) appendRecords(op *commitOp, recs []Record) ([]int64, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	byArea := map[string][]Record{}
	var areas []string
	for _, r := range recs {
		if _, ok := byArea[r.Area]; !ok {
			areas = append(areas, r.Area)
		}
		byArea[r.Area] = append(byArea[r.Area], r)
	}
	offs := make([]int64, len(recs))
	d.logsMu.Lock()
	defer d.logsMu.Unlock()
	for _, area := range areas {
		l, err := d.logFor(area)
		if err != nil {
			return nil, err
		}
		at, err := l.append(byArea[area], false)
		if err != nil {
			return nil, fmt.Errorf("store records %s: %w", area, err)
		}
		for i, r := range recs { // byArea[area] holds area's records in their order in recs
			if r.Area == area {
				offs[i], at = at[0], at[1:]
			}
		}
		op.synced = append(op.synced, l.path)
		op.addDir(l.dir)
	}
	return offs, nil
}

// closeLogs closes the record logs' files.
func (d *Dir) closeLogs() error {
	d.logsMu.Lock()
	defer d.logsMu.Unlock()
	var errs []error
	for _, l := range d.logs {
		errs = append(errs, l.f.Close())
	}
	clear(d.logs)
	return errors.Join(errs...)
}
