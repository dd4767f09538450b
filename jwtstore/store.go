// Package jwtstore is the account server's storage of account JWTs: a small interface keyed by
// account public key, and its backends (a directory in nats-server's or nats-account-server's
// layout, and memory for tests).
//
// The store knows nothing about trust: callers verify a JWT before they Put it. It keeps what the
// NATS resolver protocol needs besides the JWTs themselves: the sha256 of each JWT (an HTTP ETag)
// and the XOR of all of them (the hash nats-server's full resolver exchanges in CLAIMS.PACK).
package jwtstore

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is returned by Get and Entry when the store holds no JWT for the key.
var ErrNotFound = errors.New("account jwt not found")

// ErrReadOnly is returned by Put and Delete on a read-only store.
var ErrReadOnly = errors.New("jwt store is read-only")

// Entry is one stored JWT with what is derived from it.
type Entry struct {
	// JWT is the encoded token as stored.
	JWT string
	// Hash is the sha256 of JWT.
	Hash [sha256.Size]byte
	// Expires is the JWT's exp claim (unix seconds), 0 when it has none or cannot be read.
	Expires int64
	// IssuedAt is the JWT's iat claim (unix seconds), 0 when it cannot be read.
	IssuedAt int64
	// Issuer is the JWT's iss claim, the key that signed it (its signature was checked with
	// that key before the JWT was stored), empty when it cannot be read. A server whose trust
	// changed compares it with the keys it trusts now instead of verifying the JWT again.
	Issuer string
	// Revision is the shared store's revision of the account (JetStream KV), 0 in stores that
	// keep no revisions. A Put carries it back so the write fails if another writer came first.
	Revision uint64
}

// Store holds account JWTs by account public key. Implementations are safe for concurrent use.
type Store interface {
	// Get returns the JWT stored for pub, or ErrNotFound.
	Get(pub string) (string, error)
	// Entry returns the JWT stored for pub with its hash and times, or ErrNotFound.
	Entry(pub string) (Entry, error)
	// Put stores jwt for pub durably, replacing what was there.
	Put(pub, jwt string) error
	// Delete removes pub; deleting an absent key is not an error.
	Delete(pub string) error
	// Range calls fn for every stored account until fn returns false. fn must not call back
	// into the store's write methods.
	Range(fn func(pub, jwt string) bool) error
	// Len is the number of stored accounts.
	Len() int
	// Hash is the XOR of the sha256 of every stored JWT, as nats-server's DirJWTStore computes it.
	Hash() ([sha256.Size]byte, error)
	// ReadOnly reports whether Put and Delete are refused.
	ReadOnly() bool
	// Close releases resources (watchers); the store must not be used afterwards.
	Close() error
}

// Record is a small file kept beside the JWTs, in a folder of its own (Area, like ".outbox"):
// the account server keeps there the changes it has not yet announced to NATS and the delete
// requests it has honoured. Records go through the same commit as JWTs (Batch), so one sync
// makes both durable.
type Record struct {
	// Area is the folder: a dot, then lower-case letters, digits, '-' or '_'.
	Area string
	// Name is the file name: letters, digits, '-' or '_'.
	Name string
	Data []byte
	// Replace lets a commit overwrite a record of the same name. Without it a shared store's
	// commit fails with ErrRecordExists when the record is there already (how replicas share a
	// replay guard); the directory and memory stores overwrite either way.
	Replace bool
}

// Put is one JWT to store in a Batch.
type Put struct {
	Pub string
	JWT string
	// Revision is the Entry.Revision the writer decided on (0: the account was absent). A
	// shared store refuses the put with ErrConflict when the account has moved on since; other
	// stores ignore it (their callers serialize writes of one account themselves).
	Revision uint64
}

// ErrConflict is returned by a shared store's Commit when a Put's account changed since the
// writer read it (another replica wrote it). The writer reads it again (Refresher) and decides
// again.
var ErrConflict = errors.New("account jwt changed meanwhile")

// ErrRecordExists is returned by a shared store's Commit when a record it creates is already
// there: another replica wrote it first (a delete request used twice).
var ErrRecordExists = errors.New("record already exists")

// Refresher is a store whose reads are served from a local copy of a shared state: Refresh
// reads one account from the shared state itself (and updates the copy), for a writer whose
// Put failed with ErrConflict. When it answers (an Entry, or ErrNotFound for an account that is
// absent), the copy holds at least everything the shared state held when that account was read,
// records written before it included (a deleted account's tombstone), so what the writer reads
// next from the copy is not older than the answer; when it cannot promise that (within the
// store's timeout) it returns another error.
type Refresher interface {
	Refresh(pub string) (Entry, error)
}

// Announcer is a store shared by several account servers that hands each change to exactly one
// of them to announce to NATS, and to another one if that one dies before it is done. Changes
// come as outbox records (Area is the outbox area the store was opened with): Name is an
// account key whose JWT changed, or a record the writer put in the outbox area (Data as
// written). The receiver removes the record (RemoveRecord) once the change is announced; until
// then it stays its own.
type Announcer interface {
	Announce(fn func(Record)) error
}

// Batch is a set of changes committed together. They are applied in this order: records are
// written, JWTs are stored, JWTs are deleted; so a crash in the middle of a batch leaves a
// record without its JWT change (an outbox entry announcing the old JWT again, a delete request
// remembered but not applied), never the other way round.
type Batch struct {
	Records []Record
	Puts    []Put
	Deletes []string
}

// Committer is a Store that also keeps records and applies batches. When Commit returns nil,
// every change of the batch survives a crash (for the directory store: it is synced to disk).
type Committer interface {
	Store
	// Commit applies b.
	Commit(b Batch) error
	// Records lists the records of area, in no particular order; an area never written is empty.
	Records(area string) ([]Record, error)
	// Record returns the data of one record; ok is false when there is none.
	Record(area, name string) (data []byte, ok bool, err error)
	// RemoveRecord removes a record (an absent one is not an error). The removal is not synced:
	// one lost in a crash leaves a record that is acted on once more, which records must allow.
	RemoveRecord(area, name string) error
}

// WithRecords returns s if it is a Committer; otherwise a Committer that applies batches through
// s's Put and Delete and keeps records in memory, where nothing of them survives a restart.
func WithRecords(s Store) Committer {
	if c, ok := s.(Committer); ok {
		return c
	}
	return &memRecorded{Store: s, recs: newMemRecords()}
}

// ErrBadRecord is returned for a record whose area or name is not allowed.
var ErrBadRecord = errors.New("invalid record area or name")

func validArea(a string) bool {
	if len(a) < 2 || len(a) > 64 || a[0] != '.' {
		return false
	}
	for i := 1; i < len(a); i++ {
		c := a[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func validRecordName(n string) bool {
	if n == "" || len(n) > 128 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func checkRecord(r Record) error {
	if !validArea(r.Area) || !validRecordName(r.Name) {
		return fmt.Errorf("record %q/%q: %w", r.Area, r.Name, ErrBadRecord)
	}
	return nil
}

// ChangeFunc is told about changes a store did not make itself (files edited under a read-only
// directory store). jwt is empty when the account was removed.
type ChangeFunc func(pub, jwt string)

// NewEntry derives an Entry from a JWT. A JWT whose claims cannot be read still gets an Entry
// (with zero times and no issuer).
func NewEntry(token string) Entry {
	c := readClaims(token)
	return Entry{JWT: token, Hash: sha256.Sum256([]byte(token)), IssuedAt: c.IssuedAt, Expires: c.Expires, Issuer: c.Issuer}
}

// storedClaims are the claims an Entry keeps.
type storedClaims struct {
	IssuedAt int64  `json:"iat"`
	Expires  int64  `json:"exp"`
	Issuer   string `json:"iss"`
}

// readClaims reads a JWT's payload without verifying it: the store is not where trust is
// decided, and signature checks on every load would make a million accounts slow.
func readClaims(token string) storedClaims {
	var c storedClaims
	first := strings.IndexByte(token, '.')
	if first < 0 {
		return c
	}
	rest := token[first+1:]
	second := strings.IndexByte(rest, '.')
	if second < 0 {
		return c
	}
	payload, err := base64.RawURLEncoding.DecodeString(rest[:second])
	if err != nil {
		return c
	}
	if json.Unmarshal(payload, &c) != nil {
		return storedClaims{}
	}
	return c
}

// ByIssuer is a Store that counts, hashes and ranges over its JWTs by issuer, so that a server
// trusting only some of the issuers it holds JWTs of (its operator changed) can report, list and
// exchange what it serves without decoding every JWT: each entry keeps its issuer.
type ByIssuer interface {
	// LenIssuedBy is Len counting only the JWTs whose issuer keep accepts (n), and the accounts
	// whose JWT the store has not read yet (unread: the directory store reads a file when first
	// asked for it), whose issuer it does not know: n does not count them. Reading them to
	// count them would make counting read every file of a large folder once.
	LenIssuedBy(keep func(issuer string) bool) (n, unread int)
	// HashIssuedBy is Hash over the JWTs whose issuer keep accepts. It reads what was not read
	// yet.
	HashIssuedBy(keep func(issuer string) bool) ([sha256.Size]byte, error)
	// RangeIssuedBy is Range over the JWTs whose issuer keep accepts, each with its Entry, so a
	// caller needs no claim of the JWT decoded (a writer takes the Revision from Entry, which
	// knows the latest). keep is asked just before fn would be called. JWTs not read yet are
	// read, and keep asked then; one of an issuer known to be refused is passed over without
	// being read again.
	RangeIssuedBy(keep func(issuer string) bool, fn func(pub string, e Entry) bool) error
}

// anyIssuer is the keep of a Range: every JWT.
func anyIssuer(string) bool { return true }

// tally is the XOR of the hashes of a set of entries, in all and by issuer, with the number of
// entries of each issuer.
type tally struct {
	hash     [sha256.Size]byte
	byIssuer map[string]*issuerTally
}

type issuerTally struct {
	issuer string // the key of byIssuer, shared by the entries of this issuer
	n      int
	hash   [sha256.Size]byte
}

func newTally() tally { return tally{byIssuer: map[string]*issuerTally{}} }

// add counts e and returns it with its Issuer shared with the other entries of that issuer
// (a million accounts signed by a handful of keys keep a handful of strings).
func (t *tally) add(e Entry) Entry {
	xorInto(&t.hash, e.Hash)
	it := t.byIssuer[e.Issuer]
	if it == nil {
		it = &issuerTally{issuer: e.Issuer}
		t.byIssuer[e.Issuer] = it
	}
	it.n++
	xorInto(&it.hash, e.Hash)
	e.Issuer = it.issuer
	return e
}

// remove takes back what add counted for e.
func (t *tally) remove(e Entry) {
	xorInto(&t.hash, e.Hash)
	it := t.byIssuer[e.Issuer]
	if it == nil {
		return
	}
	xorInto(&it.hash, e.Hash)
	if it.n--; it.n <= 0 {
		delete(t.byIssuer, e.Issuer)
	}
}

// issuedBy is the number and the XOR of the hashes of the entries whose issuer keep accepts.
func (t *tally) issuedBy(keep func(issuer string) bool) (int, [sha256.Size]byte) {
	var (
		n int
		h [sha256.Size]byte
	)
	for iss, it := range t.byIssuer {
		if keep(iss) {
			n += it.n
			xorInto(&h, it.hash)
		}
	}
	return n, h
}

func xorInto(dst *[sha256.Size]byte, src [sha256.Size]byte) {
	for i := range src {
		dst[i] ^= src[i]
	}
}
