package jwtstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// errClosed is returned by a commit submitted after Close.
var errClosed = errors.New("jwt store is closed")

// stagedFile is a file written under a temporary name, waiting for its rename.
type stagedFile struct {
	tmp, final string
	renamed    bool
}

// commitOp is one Commit on its way to disk: files written under temporary names (not synced),
// files to remove, its record for the write-ahead log, and the channel its caller waits on.
type commitOp struct {
	files   []stagedFile
	synced  []string // files written in place (record logs): synced with the temporary files
	removes []string
	dirs    []string // folders of files and removes, for the fsync fallback
	wal     []byte   // the commit as the write-ahead log keeps it (encodeCommit)
	full    bool     // no log record can redo it (a record log compacted): sync everything
	applied bool     // every rename and removal done; read by the caller after done
	done    chan error
}

// apply renames the staged files into place, in order, then removes what is to be removed.
func (op *commitOp) apply() error {
	for i := range op.files {
		f := &op.files[i]
		if err := os.Rename(f.tmp, f.final); err != nil {
			return err
		}
		f.renamed = true
	}
	for _, p := range op.removes {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	op.applied = true
	return nil
}

// discard removes the temporary files that were not renamed (after a failure).
func (op *commitOp) discard() {
	for _, f := range op.files {
		if !f.renamed {
			os.Remove(f.tmp)
		}
	}
}

// stage writes data under a temporary name in dir, to be renamed to final. It does not sync:
// the round's sync does, for every commit of the round.
func (op *commitOp) stage(dir, final string, data []byte) error {
	pattern := "." + filepath.Base(final) + ".tmp*"
	f, err := os.CreateTemp(dir, pattern)
	if errors.Is(err, fs.ErrNotExist) {
		// A shard folder not made yet (made here rather than looked up on every write).
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		f, err = os.CreateTemp(dir, pattern)
	}
	if err != nil {
		return err
	}
	op.files = append(op.files, stagedFile{tmp: f.Name(), final: final})
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	op.addDir(dir)
	return nil
}

func (op *commitOp) addDir(dir string) {
	for _, d := range op.dirs {
		if d == dir {
			return
		}
	}
	op.dirs = append(op.dirs, dir)
}

// syncFunc makes durable the data of files (renamed into place, or record logs appended to) and
// the entries of dirs (folders where renames and removals happened).
type syncFunc func(files, dirs []string) error

// committer is the directory store's group commit. Writers write their files under temporary
// names (and append their records), rename them into place, and queue; one goroutine runs
// rounds: each takes every commit queued, appends one record per commit to the write-ahead log
// (see wal), makes the log durable with one fdatasync, then answers those commits. While a
// round syncs, the next writers write, rename and queue, so every writer waiting at that moment
// shares one sync of a few kilobytes. The renamed files are made durable later, all at once, by
// a checkpoint (syncfs), after which the log is emptied; a crash before it is repaired at open
// by redoing the log. Without a log (another writer holds it, or the platform has no flock)
// each round makes its files durable itself (syncfs, or an fsync of each file and folder).
//
// Readers see the old or the new JWT, never a partial one: files are renamed into place whole.
// A commit is answered only after a sync that began after its renames and its log record. What
// a crash may do to a commit not yet answered: it is not redone, and a JWT file replaced by its
// rename keeps the old or the new JWT (ext4, XFS and btrfs flush a file's data before they
// commit a rename over an existing file), or is set back by the redo of the last answered
// commit; a new account's file may come back empty, and the store treats an empty file as
// absent.
type committer struct {
	sync   syncFunc // makes a round durable: the log's fdatasync, or full without a log
	full   syncFunc // makes every file durable: syncfs, or an fsync of each file and folder
	wal    *wal     // nil: no log, every round syncs with full
	report func(error)

	// Owned by the goroutine running rounds.
	pendingFiles, pendingDirs map[string]bool // touched since the last checkpoint
	dirty                     bool            // the log must be emptied before its next record
	failed                    error           // the log could be neither emptied nor removed

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*commitOp
	due     bool // the checkpoint timer fired
	timer   *time.Timer
	closed  bool
	stopped chan struct{}
}

// newCommitter starts the rounds. With w nil every round syncs with full.
func newCommitter(full syncFunc, w *wal, report func(error)) *committer {
	c := &committer{full: full, sync: full, wal: w, report: report, stopped: make(chan struct{}),
		pendingFiles: map[string]bool{}, pendingDirs: map[string]bool{}}
	if w != nil {
		c.sync = func(files, dirs []string) error { return w.sync() }
	}
	c.cond = sync.NewCond(&c.mu)
	go c.run()
	return c
}

// submit applies op (its renames and removals) and waits until a sync made it durable.
func (c *committer) submit(op *commitOp) error {
	op.done = make(chan error, 1)
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return errClosed
	}
	if err := op.apply(); err != nil {
		return err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		// Applied but not synced: the store is closing; say so rather than claim durability.
		return errClosed
	}
	c.queue = append(c.queue, op)
	c.cond.Signal()
	c.mu.Unlock()
	return <-op.done
}

// close lets the rounds finish what is queued, checkpoints, then stops them.
func (c *committer) close() {
	c.mu.Lock()
	c.closed = true
	c.cond.Signal()
	c.mu.Unlock()
	<-c.stopped
}

func (c *committer) run() {
	defer close(c.stopped)
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && !c.closed && !c.due {
			c.cond.Wait()
		}
		round, closing, due := c.queue, c.closed && len(c.queue) == 0, c.due
		c.queue, c.due = nil, false
		c.mu.Unlock()
		if len(round) > 0 {
			err := c.commit(round)
			for _, op := range round {
				op.done <- err
			}
			// The writers just woken wait on this goroutine's P; a next round's write and
			// fdatasync would hold it until the scheduler takes it back. When one is due, let
			// them run first (they answer their POSTs, and more writers join that round).
			c.mu.Lock()
			more := len(c.queue) > 0
			c.mu.Unlock()
			if more {
				runtime.Gosched()
			}
		}
		if c.wal != nil && c.wal.records() && (closing || due || c.wal.off >= walCheckpointB) {
			if err := c.checkpoint(); err != nil {
				c.report(fmt.Errorf("checkpoint of the write-ahead log: %w (its records are kept)", err))
			}
		}
		if closing {
			c.mu.Lock()
			if c.timer != nil {
				c.timer.Stop()
			}
			c.mu.Unlock()
			if c.wal != nil {
				if err := c.wal.close(); err != nil {
					c.report(fmt.Errorf("close write-ahead log: %w", err))
				}
			}
			return
		}
	}
}

// commit makes a round durable: its records in the log and one fdatasync, or a checkpoint
// when the round or the log asks for one.
func (c *committer) commit(round []*commitOp) error {
	if c.failed != nil {
		return c.failed
	}
	var files, dirs []string
	var payloads [][]byte
	full := c.wal == nil || c.dirty
	for _, op := range round {
		for _, f := range op.files {
			files = append(files, f.final)
		}
		files = append(files, op.synced...)
		dirs = append(dirs, op.dirs...)
		if len(op.wal) > 0 {
			payloads = append(payloads, op.wal)
		}
		full = full || op.full
	}
	if c.wal == nil {
		return c.sync(files, dirs)
	}
	for _, f := range files {
		c.pendingFiles[f] = true
	}
	for _, d := range dirs {
		c.pendingDirs[d] = true
	}
	if full {
		return c.checkpoint()
	}
	first := !c.wal.records()
	err := c.wal.write(payloads)
	if err == nil {
		err = c.sync(files, dirs)
	}
	if err != nil {
		// What the failed write or sync left in the log must never be read: the checkpoint
		// makes the round durable without it, then starts a new epoch.
		c.dirty = true
		c.report(fmt.Errorf("write-ahead log: %w; syncing every file instead", err))
		return c.checkpoint()
	}
	if first {
		c.mu.Lock()
		if c.timer == nil {
			c.timer = time.AfterFunc(walCheckpointT, c.checkpointDue)
		} else {
			c.timer.Reset(walCheckpointT)
		}
		c.mu.Unlock()
	}
	return nil
}

func (c *committer) checkpointDue() {
	c.mu.Lock()
	c.due = true
	c.cond.Signal()
	c.mu.Unlock()
}

// checkpoint makes every file touched since the last checkpoint durable, then empties the log.
// A log that cannot be emptied is removed (its records are older than the files now); one that
// cannot be removed either fails every later commit, since redoing it would set files back.
func (c *committer) checkpoint() error {
	files := make([]string, 0, len(c.pendingFiles))
	for f := range c.pendingFiles {
		files = append(files, f)
	}
	dirs := make([]string, 0, len(c.pendingDirs))
	for d := range c.pendingDirs {
		dirs = append(dirs, d)
	}
	if err := c.full(files, dirs); err != nil {
		return err
	}
	clear(c.pendingFiles)
	clear(c.pendingDirs)
	if err := c.wal.reset(0); err != nil {
		if derr := c.wal.discard(); derr != nil {
			c.failed = fmt.Errorf("write-ahead log can be neither emptied (%w) nor removed (%w)", err, derr)
			return c.failed
		}
		c.report(fmt.Errorf("write-ahead log removed, it could not be emptied (%w); syncing every file from now on", err))
		c.wal, c.sync = nil, c.full
	}
	c.dirty = false
	return nil
}

// syncEach fsyncs every file and folder (once each, in parallel: the file system's journal
// batches concurrent fsyncs), and the store's folder, where new shard and record folders
// appear. It is the portable sync, and the fallback where syncfs is refused.
func syncEach(root string) syncFunc {
	return func(files, dirs []string) error {
		seen := map[string]bool{}
		var paths []string
		for _, p := range append(append(append([]string(nil), files...), dirs...), root) {
			if !seen[p] {
				seen[p] = true
				paths = append(paths, p)
			}
		}
		errs := make([]error, len(paths))
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		for i, p := range paths {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				// A file gone since (deleted by a later commit) needs no sync; its folder's does.
				if errs[i] = fsyncPath(p); errors.Is(errs[i], fs.ErrNotExist) {
					errs[i] = nil
				}
				<-sem
			}()
		}
		wg.Wait()
		return errors.Join(errs...)
	}
}

func fsyncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
