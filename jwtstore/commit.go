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
// the commit's sync does, for every file of every commit waiting at that moment.
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

// syncFunc makes durable the data of files (temporary files about to be renamed) and the
// entries of dirs (folders where renames and removals happened).
type syncFunc func(files, dirs []string) error

// committer is the directory store's group commit. Writers stage their files and queue; one
// goroutine runs rounds, each a single sync that covers every commit waiting at that moment.
// A commit needs two rounds: the first makes its temporary files durable, then they are
// renamed into place; the second makes the renames durable, then its caller is answered. So a
// crash leaves every file whole, old or new, and an answered commit is on disk. Under load a
// round serves two generations of commits at once (one being written, one being renamed), so
// the cost per commit is about one sync shared by all writers of the round.
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

// submit queues op and waits until it is durable (or failed).
func (c *committer) submit(op *commitOp) error {
	op.done = make(chan error, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
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
	var renamed []*commitOp // applied, waiting for the sync of their renames
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && len(renamed) == 0 && !c.closed {
			c.cond.Wait()
		}
		staged := c.queue
		c.queue = nil
		closed := c.closed
		c.mu.Unlock()
		if len(staged) == 0 && len(renamed) == 0 && closed {
			return
		}
		var written []*commitOp // files written, waiting for the sync of their data
		for _, op := range staged {
			if len(op.files) > 0 {
				written = append(written, op)
				continue
			}
			// Removals only: nothing to make durable before they happen.
			if err := op.apply(); err != nil {
				op.done <- err
				continue
			}
			renamed = append(renamed, op)
		}
		var files, dirs []string
		for _, op := range written {
			for _, f := range op.files {
				files = append(files, f.tmp)
			}
		}
		for _, op := range renamed {
			dirs = append(dirs, op.dirs...)
		}
		err := c.sync(files, dirs)
		for _, op := range renamed {
			op.done <- err
		}
		renamed = nil
		for _, op := range written {
			if err != nil {
				op.done <- err
				continue
			}
			if aerr := op.apply(); aerr != nil {
				op.done <- aerr
				continue
			}
			renamed = append(renamed, op)
		}
	}
}

// syncEach fsyncs every file and every folder (once each), and the store's folder, where new
// shard and record folders appear. It is the portable sync, and the fallback when the
// file-system-wide sync is not available.
func syncEach(root string) syncFunc {
	return func(files, dirs []string) error {
		var errs []error
		for _, p := range files {
			errs = append(errs, fsyncPath(p))
		}
		seen := map[string]bool{}
		for _, d := range append(dirs, root) {
			if seen[d] {
				continue
			}
			seen[d] = true
			errs = append(errs, fsyncPath(d))
		}
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
