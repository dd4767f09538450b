package jwtstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/gofrs/flock"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/store"
)

const fileExt = ".jwt"

// staleTempAge is the age past which a temporary file in the store is a crash's leftover.
const staleTempAge = time.Minute

// DirOptions configures a directory store.
type DirOptions struct {
	// Shard puts each JWT in <last two characters of the key>/<KEY>.jwt, the layout of
	// nats-account-server. Unsharded, <KEY>.jwt sits in the directory itself, the layout of
	// nats-server's full resolver directory.
	Shard bool
	// ReadOnly serves a directory something else writes: Put and Delete are refused and the
	// directory is watched; changes are reported to OnChange.
	ReadOnly bool
	// MaxCached bounds how many JWT bodies are kept in memory after their first read: 0 keeps
	// all of them, a negative value none (every Get reads the file).
	MaxCached int
	// NoWAL makes every round of the group commit sync the files it renamed (syncfs, or an
	// fsync of each file and folder) instead of logging the commits ahead: the store as it was
	// before its write-ahead log, slower; kept to compare the two (BenchmarkPOSTDurable).
	NoWAL bool
	// Accept, when set, is asked about every JWT read from a file (a file written behind the
	// store's back, or by an older run under another operator): a JWT it refuses is skipped
	// like a file that holds no account JWT (reported through OnError, never served). The
	// store's own writes are not asked: their callers verified them.
	Accept func(pub, jwt string) error
	// OnChange is told about changes found by the watcher or by Reload (read-only stores only).
	OnChange ChangeFunc
	// OnError is told about what has no caller to return to: errors the watcher meets, files
	// skipped (links, names that are no account key, content that is no account JWT for its
	// name), and temporary files of crashed writes removed at open.
	OnError func(error)
}

type dirItem struct {
	e      Entry // JWT valid when cached; Hash, times and Issuer valid when hashed
	hashed bool
	cached bool
}

// Dir is a Store keeping one file per account in a directory. The index of keys lives in
// memory, so a Get is a map lookup (plus one file read the first time), and opening a directory
// of a million accounts only lists it.
type Dir struct {
	dir  string
	opts DirOptions

	mu       sync.RWMutex
	idx      map[string]dirItem
	tally    tally // of the hashed items
	unhashed int
	cached   int

	seed  maphash.Seed
	locks [256]sync.Mutex // per-key serialisation of file writes, striped

	watcher *fsnotify.Watcher
	wg      sync.WaitGroup

	commits   *committer   // nil when read-only
	writer    *flock.Flock // held by the one writable store of the folder; nil when read-only
	closeSync func() error
	closeOnce sync.Once

	logsMu sync.Mutex
	logs   map[string]*recordLog // record areas in use, by name
}

// OpenDir opens (and, unless read-only, creates) a directory store and indexes its keys.
func OpenDir(dir string, opts DirOptions) (*Dir, error) {
	if dir == "" {
		return nil, errors.New("open jwt store: no directory given")
	}
	if !opts.ReadOnly {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open jwt store: create %s: %w", dir, err)
		}
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("open jwt store: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("open jwt store: %s is not a directory", dir)
	}
	d := &Dir{dir: dir, opts: opts, idx: make(map[string]dirItem), tally: newTally(), seed: maphash.MakeSeed(), logs: map[string]*recordLog{}}
	if !opts.ReadOnly {
		if d.writer, err = lockWriter(dir); err != nil {
			return nil, fmt.Errorf("open jwt store %s: %w", dir, err)
		}
		// Temporary files of writes that a crash cut short; younger ones may be another
		// process's writes in progress.
		if n, err := sweepTemp(dir, time.Now()); err != nil {
			d.report(err)
		} else if n > 0 {
			d.report(fmt.Errorf("removed %d temporary files left by an earlier crash", n))
		}
	}
	var (
		full      syncFunc
		closeSync func() error
		w         *wal
	)
	if !opts.ReadOnly {
		// Before the index is built: the redo of the write-ahead log may change files.
		if full, closeSync, err = platformSync(dir); err != nil {
			d.writer.Unlock()
			return nil, fmt.Errorf("open jwt store %s: %w", dir, err)
		}
		if walSupported && !opts.NoWAL {
			if w, err = d.recoverWAL(full); err != nil {
				d.closeLogs()
				closeSync()
				d.writer.Unlock()
				return nil, fmt.Errorf("open jwt store %s: %w", dir, err)
			}
		}
	}
	keys, err := d.list()
	if err != nil {
		if w != nil {
			w.close()
		}
		if closeSync != nil {
			closeSync()
		}
		d.closeLogs()
		if d.writer != nil {
			d.writer.Unlock()
		}
		return nil, fmt.Errorf("open jwt store %s: %w", dir, err)
	}
	for _, k := range keys {
		d.idx[k] = dirItem{}
	}
	d.unhashed = len(keys)
	if !opts.ReadOnly {
		d.commits, d.closeSync = newCommitter(full, w, d.report), closeSync
	}
	if opts.ReadOnly {
		d.pendingWAL()
		if err := d.watch(); err != nil {
			return nil, fmt.Errorf("open jwt store %s: watch: %w", dir, err)
		}
	}
	return d, nil
}

// ErrInUse: another writable store (another signet serve, most likely) has the folder open.
// Two writers of one folder would each decide "newer than the stored JWT" and "request already
// seen" on their own view, so one could replace a newer JWT or accept a replayed delete.
var ErrInUse = errors.New("another process writes to this folder (a signet serve?): stop it, or open the folder read-only")

// lockWriter takes the folder's writer lock (<dir>/.wal/writer.lock) without waiting.
func lockWriter(dir string) (*flock.Flock, error) {
	if err := os.MkdirAll(filepath.Join(dir, walDirName), 0o700); err != nil {
		return nil, err
	}
	l := flock.New(filepath.Join(dir, walDirName, "writer.lock"))
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("writer lock: %w", err)
	}
	if !ok {
		return nil, ErrInUse
	}
	return l, nil
}

// Path is the store's directory.
func (d *Dir) Path() string { return d.dir }

// validKey keeps file names sane: account keys are upper-case base32. Callers check that a key
// is an account key; this only makes sure no key escapes the directory.
func validKey(pub string) bool {
	if len(pub) < 2 || len(pub) > 128 {
		return false
	}
	for i := 0; i < len(pub); i++ {
		c := pub[i]
		if (c < 'A' || c > 'Z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

// sweepTemp removes the temporary files that writes cut short by a crash left in the store:
// in its folder and in shard folders (named by two characters of a key), signet's temporary JWT
// files (".<KEY>.jwt.tmp<digits>") and health checks' (".healthz.tmp<digits>"); in record areas
// (".outbox", ".deletes"...), compactions' (".log.tmp<digits>"); nothing deeper, and only those
// older than staleTempAge. The folder may be shared with other files (a --dir pointed at a home
// folder): those are never touched.
func sweepTemp(dir string, now time.Time) (int, error) {
	removed := 0
	var sweep func(folder string, top bool, match func(string) bool) error
	sweep = func(folder string, top bool, match func(string) bool) error {
		entries, err := os.ReadDir(folder)
		if err != nil {
			return fmt.Errorf("sweep temporary files in %s: %w", folder, err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() {
				var err error
				switch {
				case top && isShardName(name):
					err = sweep(filepath.Join(folder, name), false, isStoreTemp)
				case top && validArea(name):
					err = sweep(filepath.Join(folder, name), false, isRecordLogTemp)
				}
				if err != nil {
					return err
				}
				continue
			}
			if !e.Type().IsRegular() || !match(name) {
				continue
			}
			if info, err := e.Info(); err != nil || now.Sub(info.ModTime()) < staleTempAge {
				continue
			}
			if os.Remove(filepath.Join(folder, name)) == nil {
				removed++
			}
		}
		return nil
	}
	err := sweep(dir, true, isStoreTemp)
	return removed, err
}

// isRecordLogTemp reports whether name is the temporary file of a record log's compaction.
func isRecordLogTemp(name string) bool {
	return store.IsTempName(name) && strings.HasPrefix(name, "."+recordLogName+".tmp")
}

// isStoreTemp reports whether name is a temporary file of the store's writes or health checks.
func isStoreTemp(name string) bool {
	if !store.IsTempName(name) {
		return false
	}
	base := name[1:strings.LastIndex(name, ".tmp")]
	return strings.HasSuffix(base, fileExt) || base == "healthz"
}

// isShardName reports whether name could be a shard folder: the last two characters of a key.
func isShardName(name string) bool {
	if len(name) != 2 {
		return false
	}
	for _, c := range name {
		if (c < 'A' || c > 'Z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

func (d *Dir) pathFor(pub string) string {
	if d.opts.Shard {
		return filepath.Join(d.dir, pub[len(pub)-2:], pub+fileExt)
	}
	return filepath.Join(d.dir, pub+fileExt)
}

func (d *Dir) lockFor(pub string) *sync.Mutex {
	return &d.locks[maphash.String(d.seed, pub)%uint64(len(d.locks))]
}

// list reads the key names in the directory without reading the files.
func (d *Dir) list() ([]string, error) {
	if !d.opts.Shard {
		return listJWTs(d.dir, d.report)
	}
	ents, err := readDirUnsorted(d.dir)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, e := range ents {
		if !e.IsDir() || len(e.Name()) != 2 {
			continue
		}
		sub, err := listJWTs(filepath.Join(d.dir, e.Name()), d.report)
		if err != nil {
			return nil, err
		}
		for _, k := range sub {
			if !strings.HasSuffix(k, e.Name()) {
				// Not where this store looks for it (pathFor): it would be counted and listed
				// but never served.
				d.report(fmt.Errorf("skipped %s: %w: an account in shard folder %s belongs in %s", filepath.Join(d.dir, e.Name(), k+fileExt), errNotAccountFile, e.Name(), k[len(k)-2:]))
				continue
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}

func readDirUnsorted(dir string) ([]fs.DirEntry, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// listJWTs lists the keys of the JWT files in dir: regular files named <account key>.jwt.
// Anything else ending in .jwt (a symbolic link, a folder, a name that is no account key) is
// skipped and reported: the store never follows a link out of its folder.
func listJWTs(dir string, report func(error)) ([]string, error) {
	ents, err := readDirUnsorted(dir)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(ents))
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), fileExt) {
			continue
		}
		k, ok := keyFromName(e.Name())
		switch {
		case !ok:
			report(fmt.Errorf("skipped %s: its name is not an account public key", filepath.Join(dir, e.Name())))
		case !e.Type().IsRegular():
			report(fmt.Errorf("skipped %s: not a regular file", filepath.Join(dir, e.Name())))
		default:
			keys = append(keys, k)
		}
	}
	return keys, nil
}

func keyFromName(name string) (string, bool) {
	if !strings.HasSuffix(name, fileExt) {
		return "", false
	}
	k := strings.TrimSuffix(name, fileExt)
	return k, validKey(k) && nkeys.IsValidPublicAccountKey(k)
}

// errNotAccountFile marks a file in the store that is not an account JWT for its name.
var errNotAccountFile = errors.New("not an account jwt file")

// readJWTFile reads the file of pub when it is a regular file (links are not followed) holding
// an account JWT whose subject is pub that Accept (when set) accepts; an empty file is returned
// as is (see load).
func (d *Dir) readJWTFile(pub string) ([]byte, error) {
	path := d.pathFor(pub)
	st, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w: not a regular file", path, errNotAccountFile)
	}
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return data, err
	}
	if sub, ok := peekAccountSubject(string(data)); !ok || sub != pub {
		return nil, fmt.Errorf("%s: %w: it holds no account JWT for %s", path, errNotAccountFile, pub)
	}
	if d.opts.Accept != nil {
		if err := d.opts.Accept(pub, string(data)); err != nil {
			return nil, fmt.Errorf("%s: %w: %v", path, errNotAccountFile, err)
		}
	}
	return data, nil
}

// peekAccountSubject reads the subject of an account JWT without verifying it (the account
// server verified it before storing it; this only keeps foreign files out).
func peekAccountSubject(token string) (string, bool) {
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var c struct {
		Sub  string `json:"sub"`
		NATS struct {
			Type string `json:"type"`
		} `json:"nats"`
	}
	if json.Unmarshal(payload, &c) != nil || c.NATS.Type != "account" {
		return "", false
	}
	return c.Sub, true
}

// Get implements Store.
func (d *Dir) Get(pub string) (string, error) {
	e, err := d.Entry(pub)
	return e.JWT, err
}

// Entry implements Store.
func (d *Dir) Entry(pub string) (Entry, error) {
	d.mu.RLock()
	it, ok := d.idx[pub]
	d.mu.RUnlock()
	if !ok {
		return Entry{}, ErrNotFound
	}
	if it.cached {
		return it.e, nil
	}
	return d.load(pub)
}

// load reads pub's file and records what it learnt in the index. The key lock keeps a
// concurrent Put from slipping between the read and the index update.
func (d *Dir) load(pub string) (Entry, error) {
	l := d.lockFor(pub)
	l.Lock()
	defer l.Unlock()
	data, err := d.readJWTFile(pub)
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, ErrNotFound
	}
	if errors.Is(err, errNotAccountFile) {
		d.report(fmt.Errorf("skipped %w", err))
		d.mu.Lock()
		d.removeLocked(pub)
		d.mu.Unlock()
		return Entry{}, ErrNotFound
	}
	if err != nil {
		return Entry{}, fmt.Errorf("read account jwt %s: %w", pub, err)
	}
	if len(data) == 0 {
		// What a crash can leave of a new account's file whose commit was never answered: the
		// account is not there (see committer).
		d.mu.Lock()
		d.removeLocked(pub)
		d.mu.Unlock()
		if !d.opts.ReadOnly {
			os.Remove(d.pathFor(pub))
		}
		return Entry{}, ErrNotFound
	}
	e := NewEntry(string(data))
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.idx[pub]; ok { // else deleted meanwhile (by the watcher); still answer with what we read
		d.setLocked(pub, e)
	}
	return e, nil
}

func (d *Dir) mayCache() bool {
	return d.opts.MaxCached == 0 || (d.opts.MaxCached > 0 && d.cached < d.opts.MaxCached)
}

// setLocked records e for pub in the index; d.mu must be held.
func (d *Dir) setLocked(pub string, e Entry) {
	it, ok := d.idx[pub]
	if ok {
		if it.hashed {
			d.tally.remove(it.e)
		} else {
			d.unhashed--
		}
	}
	it.e, it.hashed = d.tally.add(e), true
	if !it.cached && d.mayCache() {
		it.cached = true
		d.cached++
	}
	if !it.cached {
		it.e.JWT = ""
	}
	d.idx[pub] = it
}

// removeLocked drops pub from the index; d.mu must be held. It reports whether pub was there.
func (d *Dir) removeLocked(pub string) bool {
	it, ok := d.idx[pub]
	if !ok {
		return false
	}
	if it.hashed {
		d.tally.remove(it.e)
	} else {
		d.unhashed--
	}
	if it.cached {
		d.cached--
	}
	delete(d.idx, pub)
	return true
}

// Put implements Store: the JWT is written to a temporary file and renamed over the old one, so
// a reader sees the old or the new JWT, never a torn one, and Put returns once a sync made the
// rename durable. Concurrent Puts (and Commits) share their syncs: see committer.
func (d *Dir) Put(pub, jwt string) error {
	return d.Commit(Batch{Puts: []Put{{Pub: pub, JWT: jwt}}})
}

// Delete implements Store. The removal is synced before Delete returns.
func (d *Dir) Delete(pub string) error {
	return d.Commit(Batch{Deletes: []string{pub}})
}

// Commit implements Committer: records are appended to <dir>/<area>/log and JWTs written to
// temporary files; then the JWTs are renamed into place and removed ones deleted, and the
// commit's record in the write-ahead log, synced once for every commit of the round (see
// committer), makes all of it durable before Commit returns.
func (d *Dir) Commit(b Batch) error {
	if d.opts.ReadOnly {
		return ErrReadOnly
	}
	for _, r := range b.Records {
		if err := checkRecord(r); err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(b.Puts)+len(b.Deletes))
	for _, p := range b.Puts {
		if !validKey(p.Pub) {
			return fmt.Errorf("store account jwt: invalid key %q", p.Pub)
		}
		if p.JWT == "" {
			return fmt.Errorf("store account jwt %s: empty jwt", p.Pub)
		}
		keys = append(keys, p.Pub)
	}
	for _, pub := range b.Deletes {
		if !validKey(pub) {
			return fmt.Errorf("delete account jwt: invalid key %q", pub)
		}
		keys = append(keys, pub)
	}
	entries := make([]Entry, len(b.Puts))
	for i, p := range b.Puts {
		entries[i] = NewEntry(p.JWT)
	}
	unlock := d.lockKeys(keys)
	defer unlock()
	op := &commitOp{}
	defer op.discard()
	offs, err := d.appendRecords(op, b.Records)
	if err != nil {
		return err
	}
	op.wal = encodeCommit(b.Records, offs, b.Puts, b.Deletes)
	for _, p := range b.Puts {
		path := d.pathFor(p.Pub)
		if err := op.stage(filepath.Dir(path), path, []byte(p.JWT)); err != nil {
			return fmt.Errorf("store account jwt %s: %w", p.Pub, err)
		}
	}
	for _, pub := range b.Deletes {
		path := d.pathFor(pub)
		op.removes = append(op.removes, path)
		op.addDir(filepath.Dir(path))
	}
	err = d.commits.submit(op)
	if op.applied {
		// On disk (if not yet durable when err != nil): the index follows the files.
		d.mu.Lock()
		for i, p := range b.Puts {
			d.setLocked(p.Pub, entries[i])
		}
		for _, pub := range b.Deletes {
			d.removeLocked(pub)
		}
		d.mu.Unlock()
	}
	if err != nil {
		return fmt.Errorf("commit to jwt store %s: %w", d.dir, err)
	}
	return nil
}

// lockKeys takes the key locks of every key, in stripe order so that two batches cannot
// deadlock, and returns their release.
func (d *Dir) lockKeys(keys []string) func() {
	idx := make([]int, 0, len(keys))
	for _, k := range keys {
		i := int(maphash.String(d.seed, k) % uint64(len(d.locks)))
		if !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	for _, i := range idx {
		d.locks[i].Lock()
	}
	return func() {
		for _, i := range idx {
			d.locks[i].Unlock()
		}
	}
}

// keys returns a snapshot of the indexed keys.
func (d *Dir) keys() []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	keys := make([]string, 0, len(d.idx))
	for k := range d.idx {
		keys = append(keys, k)
	}
	return keys
}

// Range implements Store: it reads the files not read yet (as Get does).
func (d *Dir) Range(fn func(pub, jwt string) bool) error {
	return d.RangeIssuedBy(anyIssuer, func(pub string, e Entry) bool { return fn(pub, e.JWT) })
}

// RangeIssuedBy implements ByIssuer. An account read before whose issuer keep refuses is passed
// over from the index, without reading its file (whose JWT may not be kept in memory).
func (d *Dir) RangeIssuedBy(keep func(issuer string) bool, fn func(pub string, e Entry) bool) error {
	for _, k := range d.keys() {
		d.mu.RLock()
		it, ok := d.idx[k]
		d.mu.RUnlock()
		if !ok || (it.hashed && !keep(it.e.Issuer)) {
			continue
		}
		e := it.e
		if !it.cached {
			var err error
			e, err = d.load(k)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if !keep(e.Issuer) {
				continue
			}
		}
		if !fn(k, e) {
			return nil
		}
	}
	return nil
}

// Len implements Store.
func (d *Dir) Len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.idx)
}

// Hash implements Store. The first call after opening a large store reads every file once.
func (d *Dir) Hash() ([sha256.Size]byte, error) {
	if err := d.hashAll(); err != nil {
		return [sha256.Size]byte{}, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.tally.hash, nil
}

// LenIssuedBy implements ByIssuer: it reads no file, so that opening a folder of a million
// accounts and counting them (a start's log line, /healthz) stays a listing of the folder. The
// accounts not read yet are counted apart, as unread, until something reads them (a GET, a
// LIST or pack, the store hash).
func (d *Dir) LenIssuedBy(keep func(issuer string) bool) (int, int) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	n, _ := d.tally.issuedBy(keep)
	return n, d.unhashed
}

// HashIssuedBy implements ByIssuer. Like Hash, it reads every file not read yet.
func (d *Dir) HashIssuedBy(keep func(issuer string) bool) ([sha256.Size]byte, error) {
	if err := d.hashAll(); err != nil {
		return [sha256.Size]byte{}, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	_, h := d.tally.issuedBy(keep)
	return h, nil
}

// hashAll reads the files of the accounts not read yet, so that every one is in the tally.
func (d *Dir) hashAll() error { return d.ReadAll(context.Background()) }

// ReadAll reads every file not read yet (a folder is opened without reading its files), so that
// its counts, hash and issuers are known, until ctx is done. An account server runs it in the
// background after it starts: /healthz and metrics then count every account without a first
// GET of each, and the first pack or store hash finds them read.
func (d *Dir) ReadAll(ctx context.Context) error {
	d.mu.RLock()
	pending := d.unhashed
	d.mu.RUnlock()
	if pending == 0 {
		return nil
	}
	var first error // a file that cannot be read does not stop the others
	for _, k := range d.keys() {
		if err := ctx.Err(); err != nil {
			return err
		}
		d.mu.RLock()
		it, ok := d.idx[k]
		d.mu.RUnlock()
		if !ok || it.hashed {
			continue
		}
		if _, err := d.load(k); err != nil && !errors.Is(err, ErrNotFound) && first == nil {
			first = err
		}
	}
	return first
}

// ReadOnly implements Store.
func (d *Dir) ReadOnly() bool { return d.opts.ReadOnly }

// Close implements Store: commits under way finish first.
func (d *Dir) Close() error {
	var errs []error
	if d.watcher != nil {
		errs = append(errs, d.watcher.Close())
		d.wg.Wait()
	}
	if d.commits != nil {
		d.closeOnce.Do(func() {
			d.commits.close()
			errs = append(errs, d.closeSync(), d.closeLogs(), d.writer.Unlock())
		})
	}
	return errors.Join(errs...)
}

// Reload re-reads the whole directory, reporting every difference from the index to OnChange.
// It is what SIGHUP does for a read-only store, and a safety net for missed watcher events.
func (d *Dir) Reload() error {
	keys, err := d.list()
	if err != nil {
		return fmt.Errorf("reload jwt store %s: %w", d.dir, err)
	}
	seen := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		seen[k] = struct{}{}
		d.refresh(k)
	}
	for _, k := range d.keys() {
		if _, ok := seen[k]; !ok {
			d.refresh(k)
		}
	}
	return nil
}

// refresh brings pub's index entry in line with its file and reports a change.
func (d *Dir) refresh(pub string) {
	l := d.lockFor(pub)
	l.Lock()
	data, err := d.readJWTFile(pub)
	var (
		changed bool
		jwt     string
	)
	if errors.Is(err, errNotAccountFile) {
		d.report(fmt.Errorf("skipped %w", err))
	}
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, errNotAccountFile):
		d.mu.Lock()
		changed = d.removeLocked(pub)
		d.mu.Unlock()
	case err != nil:
		l.Unlock()
		d.report(fmt.Errorf("read account jwt %s: %w", pub, err))
		return
	default:
		e := NewEntry(string(data))
		d.mu.Lock()
		it, ok := d.idx[pub]
		changed = !ok || !it.hashed || it.e.Hash != e.Hash
		if changed {
			d.setLocked(pub, e)
		}
		d.mu.Unlock()
		jwt = e.JWT
	}
	l.Unlock()
	if changed && d.opts.OnChange != nil {
		d.opts.OnChange(pub, jwt)
	}
}

func (d *Dir) report(err error) {
	if d.opts.OnError != nil {
		d.opts.OnError(err)
	}
}

func (d *Dir) watch() error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	if err := w.Add(d.dir); err != nil {
		w.Close()
		return err
	}
	if d.opts.Shard {
		ents, err := readDirUnsorted(d.dir)
		if err != nil {
			w.Close()
			return err
		}
		for _, e := range ents {
			if e.IsDir() && len(e.Name()) == 2 {
				if err := w.Add(filepath.Join(d.dir, e.Name())); err != nil {
					w.Close()
					return err
				}
			}
		}
	}
	d.watcher = w
	d.wg.Add(1)
	go d.watchLoop(w)
	return nil
}

func (d *Dir) watchLoop(w *fsnotify.Watcher) {
	defer d.wg.Done()
	for {
		select {
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			d.handleEvent(w, ev)
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			d.report(fmt.Errorf("watch %s: %w", d.dir, err))
		}
	}
}

func (d *Dir) handleEvent(w *fsnotify.Watcher, ev fsnotify.Event) {
	name := filepath.Base(ev.Name)
	if d.opts.Shard && filepath.Dir(ev.Name) == filepath.Clean(d.dir) {
		// A new shard directory: watch it and pick up what was written before the watch.
		if ev.Has(fsnotify.Create) && len(name) == 2 {
			if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
				if err := w.Add(ev.Name); err != nil {
					d.report(fmt.Errorf("watch %s: %w", ev.Name, err))
				}
				if keys, err := listJWTs(ev.Name, d.report); err == nil {
					for _, k := range keys {
						d.refresh(k)
					}
				}
			}
		}
		return
	}
	if k, ok := keyFromName(name); ok {
		d.refresh(k)
	}
}
