// Package history keeps a per-operator, append-only, hash-chained log of every change signet
// makes to an operator's store: who made it (an OS user, or "console session <id>"), what
// changed (the entity, its fields before and after, the sha256 of its JWT before and after),
// when, and the hash of the record before it. A Recorder is the store.Hook that appends to it;
// Verify walks the chain and names the first record that was edited, removed or reordered.
//
// The log lives beside the stores folder, as signet dev's run folder does:
// <stores>/../signet-history/<operator>/history.jsonl, one JSON record a line. It is kept out of
// the operator's store so that the store holds only what nsc knows (a pull or an import changes
// the JWTs it brings and nothing else). A second file, history.head, holds the sequence number
// and hash of the last record, so that removing the last records is caught too.
package history

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/signet-dev/signet/store"
)

const (
	logFile  = "history.jsonl"
	headFile = "history.head"
	lockFile = "history.lock"
)

// The actions of a Record.
const (
	Created = "created"
	Updated = "updated"
	Deleted = "deleted"
)

// Field is one claim that changed, by its dotted path in the JWT's claims
// ("nats.limits.conn"); Before and After are its JSON values, empty when absent.
type Field struct {
	Path   string `json:"path"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// Record is one change to the store.
type Record struct {
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"`
	Who  string    `json:"who"`
	// Action is Created, Updated or Deleted.
	Action string `json:"action"`
	// Kind is "operator", "account" or "user".
	Kind    string `json:"kind"`
	Account string `json:"account,omitempty"`
	Name    string `json:"name"`
	// Subject is the entity's public key.
	Subject string  `json:"subject,omitempty"`
	Fields  []Field `json:"fields,omitempty"`
	// JWTBefore and JWTAfter are the hex sha256 of the JWTs; empty when there was none.
	JWTBefore string `json:"jwt_sha256_before,omitempty"`
	JWTAfter  string `json:"jwt_sha256_after,omitempty"`
	// Prev is the Hash of the record before; empty for the first.
	Prev string `json:"prev,omitempty"`
	// Hash is the hex sha256 of this record's JSON without its Hash.
	Hash string `json:"hash"`
}

// computeHash is the hash a record should carry.
func (r Record) computeHash() string {
	r.Hash = ""
	data, _ := json.Marshal(r)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Dir is the folder of an operator's history.
func Dir(s *store.Store) string {
	dir := filepath.Clean(s.Dir)
	return filepath.Join(filepath.Dir(filepath.Dir(dir)), "signet-history", filepath.Base(dir))
}

// Path is the history file of an operator's store.
func Path(s *store.Store) string { return filepath.Join(Dir(s), logFile) }

func headPath(s *store.Store) string { return filepath.Join(Dir(s), headFile) }

// OSUser names the person running signet: the OS user name, else $USER, else "unknown".
func OSUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

// Recorder appends a record for every change a store reports; it is the store.Hook that every
// signet front end installs.
type Recorder struct {
	// Who is recorded as the author of the changes.
	Who string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var _ store.Hook = Recorder{}

// StoreChanged appends the change to the store's history.
func (r Recorder) StoreChanged(s *store.Store, c store.Change) error {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	rec := Record{
		Time: now().UTC().Truncate(time.Millisecond), Who: r.Who,
		Kind: c.Kind, Account: c.Account, Name: c.Name,
		JWTBefore: sum(c.Before), JWTAfter: sum(c.After),
		Fields: Diff(c.Before, c.After),
	}
	if rec.Kind != store.KindAccount && rec.Kind != store.KindUser {
		rec.Account = ""
	}
	switch {
	case c.Before == "":
		rec.Action = Created
	case c.After == "":
		rec.Action = Deleted
	default:
		rec.Action = Updated
	}
	if sub, err := store.PeekSubject(c.After); err == nil {
		rec.Subject = sub
	} else if sub, err := store.PeekSubject(c.Before); err == nil {
		rec.Subject = sub
	}
	if err := appendRecord(s, rec); err != nil {
		return fmt.Errorf("record %s %s %q in the history: %w", rec.Action, rec.Kind, rec.Name, err)
	}
	return nil
}

func sum(tok string) string {
	if tok == "" {
		return ""
	}
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// appendRecord chains rec to the last record and appends it, under the history's own lock (a
// store write holds the store's lock, but the history must not rely on every writer doing so).
func appendRecord(s *store.Store, rec Record) error {
	dir := Dir(s)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	l := flock.New(filepath.Join(dir, lockFile))
	if err := l.Lock(); err != nil {
		return err
	}
	defer func() { _ = l.Unlock() }()
	f, err := os.OpenFile(Path(s), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	last, err := lastLine(f)
	if err != nil {
		return err
	}
	rec.Seq = 1
	if len(last) > 0 {
		var prev Record
		if err := json.Unmarshal(last, &prev); err != nil {
			return fmt.Errorf("the last record of %s cannot be read (run `signet history verify`): %w", Path(s), err)
		}
		rec.Seq, rec.Prev = prev.Seq+1, prev.Hash
	}
	rec.Hash = rec.computeHash()
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	head := strconv.FormatInt(rec.Seq, 10) + " " + rec.Hash + "\n"
	return store.WriteFileAtomic(headPath(s), []byte(head), 0o644, 0o755)
}

// lastLine returns the last non-empty line of f, reading backwards from its end.
func lastLine(f *os.File) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	end := info.Size()
	var tail []byte
	const chunk = 64 << 10
	for pos := end; pos > 0; {
		n := int64(chunk)
		if pos < n {
			n = pos
		}
		pos -= n
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, pos); err != nil && err != io.EOF {
			return nil, err
		}
		tail = append(buf, tail...)
		trimmed := bytes.TrimRight(tail, "\n")
		if i := bytes.LastIndexByte(trimmed, '\n'); i >= 0 {
			return trimmed[i+1:], nil
		}
		if pos == 0 {
			return trimmed, nil
		}
	}
	return nil, nil
}

// Read returns every record of the store's history, oldest first, without checking the chain.
func Read(s *store.Store) ([]Record, error) {
	f, err := os.Open(Path(s))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Record
	err = eachLine(f, func(n int, line []byte) error {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("%s line %d: %w", Path(s), n, err)
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

func eachLine(r io.Reader, fn func(n int, line []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	n := 0
	for sc.Scan() {
		n++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := fn(n, sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}

// BadRecordError names the first record of a history that does not check out.
type BadRecordError struct {
	// Line is the record's line in the file; Seq its sequence number when it could be read.
	Line int
	Seq  int64
	// Reason says what is wrong.
	Reason string
}

func (e *BadRecordError) Error() string {
	if e.Seq > 0 {
		return fmt.Sprintf("history record %d (line %d): %s", e.Seq, e.Line, e.Reason)
	}
	return fmt.Sprintf("history line %d: %s", e.Line, e.Reason)
}

// Verify checks the store's history: every record's hash, its link to the one before, the
// sequence numbers, and the head file against the last record. It returns how many records
// were checked; the error is a *BadRecordError for the first record that is wrong.
func Verify(s *store.Store) (int, error) {
	f, err := os.Open(Path(s))
	if errors.Is(err, os.ErrNotExist) {
		if _, herr := os.Stat(headPath(s)); herr == nil {
			return 0, &BadRecordError{Line: 1, Reason: "the history file is gone but its head says records were written"}
		}
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var prev *Record
	count := 0
	lastLineNo := 0
	err = eachLine(f, func(n int, line []byte) error {
		lastLineNo = n
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return &BadRecordError{Line: n, Reason: "not a record: " + err.Error()}
		}
		if r.computeHash() != r.Hash {
			return &BadRecordError{Line: n, Seq: r.Seq, Reason: "its content does not match its hash (the record was edited)"}
		}
		switch {
		case prev == nil && (r.Seq != 1 || r.Prev != ""):
			return &BadRecordError{Line: n, Seq: r.Seq, Reason: "the first record is not record 1 (records before it were removed)"}
		case prev != nil && r.Prev != prev.Hash:
			return &BadRecordError{Line: n, Seq: r.Seq, Reason: fmt.Sprintf("it does not follow record %d (a record between them was removed or edited)", prev.Seq)}
		case prev != nil && r.Seq != prev.Seq+1:
			return &BadRecordError{Line: n, Seq: r.Seq, Reason: fmt.Sprintf("it follows record %d (records were removed)", prev.Seq)}
		}
		prev = &r
		count++
		return nil
	})
	if err != nil {
		return count, err
	}
	head, herr := os.ReadFile(headPath(s))
	if herr != nil {
		if errors.Is(herr, os.ErrNotExist) && count == 0 {
			return 0, nil
		}
		return count, &BadRecordError{Line: lastLineNo + 1, Reason: "the head file " + headPath(s) + " cannot be read: " + herr.Error()}
	}
	seqStr, hash, _ := strings.Cut(strings.TrimSpace(string(head)), " ")
	seq, _ := strconv.ParseInt(seqStr, 10, 64)
	switch {
	case prev == nil:
		return 0, &BadRecordError{Line: 1, Seq: 1, Reason: fmt.Sprintf("the history is empty but its head says %d records were written", seq)}
	case seq != prev.Seq || hash != prev.Hash:
		if seq > prev.Seq {
			return count, &BadRecordError{Line: lastLineNo + 1, Seq: prev.Seq + 1, Reason: fmt.Sprintf("missing: the head says the last record is %d, the file ends at %d (records at the end were removed)", seq, prev.Seq)}
		}
		return count, &BadRecordError{Line: lastLineNo, Seq: prev.Seq, Reason: "the head file does not name this last record"}
	}
	return count, nil
}

// Diff lists the claims that differ between two JWTs, by dotted path, sorted; iat and jti,
// which change with every signature, are left out. Either JWT may be empty.
func Diff(before, after string) []Field {
	b, a := flatten(before), flatten(after)
	paths := map[string]bool{}
	for p := range b {
		paths[p] = true
	}
	for p := range a {
		paths[p] = true
	}
	var out []Field
	for p := range paths {
		if p == "iat" || p == "jti" || b[p] == a[p] {
			continue
		}
		out = append(out, Field{Path: p, Before: b[p], After: a[p]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// flatten maps a JWT's claims to dotted paths and the compact JSON of each leaf (objects are
// walked, arrays are leaves).
func flatten(tok string) map[string]string {
	out := map[string]string{}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return out
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return out
	}
	var v any
	if json.Unmarshal(payload, &v) != nil {
		return out
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok && len(m) > 0 {
			for k, x := range m {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, x)
			}
			return
		}
		data, _ := json.Marshal(v)
		out[prefix] = string(data)
	}
	walk("", v)
	return out
}
