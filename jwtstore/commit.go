package jwtstore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// errClosed is returned by a commit submitted after Close.
var errClosed = errors.New("jwt store is closed")

// stagedFile is a file written under a temporary name, waiting for its rename.
type stagedFile struct {
	tmp, final string
	renamed    bool
}

// commitOp is one Commit on its way to disk: files written under temporary names (not synced),
// files to remove, and the channel its caller waits on.
type commitOp struct {
	files   []stagedFile
	synced  []string // files written in place (record logs): synced with the temporary files
	removes []string
	dirs    []string // folders of files and removes, for the fsync fallback
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
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(final)+".tmp*")
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
// rounds: each takes every commit queued, makes all of it durable with a single sync (syncfs on
// Linux), then answers those commits. While a round syncs, the next writers write, rename and
// queue, so every writer waiting at that moment shares one sync: a commit costs its file writes
// plus a share of one sync, where it cost two fsyncs of its own.
//
// Readers see the old or the new JWT, never a partial one: files are renamed into place whole.
// A commit is answered only after a sync that began after its renames. What a crash may do to a
// commit not yet answered: a JWT file replaced by a rename keeps the old or the new JWT (ext4,
// XFS and btrfs flush a file's data before they commit a rename over an existing file); a new
// account's file may come back empty, and the store treats an empty file as absent.
type committer struct {
	sync syncFunc
	root string

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*commitOp
	closed  bool
	stopped chan struct{}
}

func newCommitter(root string, syncFn syncFunc) *committer {
	c := &committer{sync: syncFn, root: root, stopped: make(chan struct{})}
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

// close lets the rounds finish what is queued, then stops them.
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
		for len(c.queue) == 0 && !c.closed {
			c.cond.Wait()
		}
		round := c.queue
		c.queue = nil
		c.mu.Unlock()
		if len(round) == 0 {
			return // closed, nothing left
		}
		var files, dirs []string
		for _, op := range round {
			for _, f := range op.files {
				files = append(files, f.final)
			}
			files = append(files, op.synced...)
			dirs = append(dirs, op.dirs...)
		}
		err := c.sync(files, dirs)
		for _, op := range round {
			op.done <- err
		}
	}
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
				errs[i] = fsyncPath(p)
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
