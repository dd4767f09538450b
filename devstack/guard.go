package devstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/signet-dev/signet/store"
)

// Files of the run folder of an operator (see Acquire).
const (
	lockFile  = "dev.lock"
	stateFile = "dev.json"
)

// State is what a running `signet dev` records about itself, for a second one to name it.
type State struct {
	PID              int       `json:"pid"`
	Operator         string    `json:"operator"`
	NATSURL          string    `json:"nats_url,omitempty"`
	AccountServerURL string    `json:"account_server_url,omitempty"`
	Started          time.Time `json:"started"`
}

// RunningError is Acquire's refusal: another process holds the operator.
type RunningError struct {
	Operator string
	// State is what the other process recorded; zero when it could not be read.
	State State
}

func (e *RunningError) Error() string {
	var what []string
	if e.State.PID > 0 {
		what = append(what, fmt.Sprintf("pid %d", e.State.PID))
	}
	if e.State.NATSURL != "" || e.State.AccountServerURL != "" {
		for _, u := range []string{e.State.NATSURL, e.State.AccountServerURL} {
			if u != "" {
				what = append(what, u)
			}
		}
	} else {
		what = append(what, "still starting")
	}
	return fmt.Sprintf("signet dev is already running for operator %s (%s)", e.Operator, strings.Join(what, ", "))
}

// Guard is the lock a running `signet dev` holds on its operator for as long as its stack runs,
// and the state file beside it. The lock is an flock: the kernel drops it when the process dies,
// however it dies, so a stale state file never blocks a later start.
type Guard struct {
	fl    *flock.Flock
	path  string
	state State
}

// Acquire takes the lock of the operator whose run folder is dir, or returns a *RunningError
// naming the process that holds it. It records this process (pid, not yet its URLs).
func Acquire(dir, operator string) (*Guard, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	fl := flock.New(filepath.Join(dir, lockFile))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", fl.Path(), err)
	}
	if !ok {
		st, _ := ReadState(dir)
		return nil, &RunningError{Operator: operator, State: st}
	}
	g := &Guard{fl: fl, path: filepath.Join(dir, stateFile),
		state: State{PID: os.Getpid(), Operator: operator, Started: time.Now().UTC().Truncate(time.Second)}}
	if err := g.write(); err != nil {
		_ = fl.Unlock()
		return nil, err
	}
	return g, nil
}

// Running records the URLs the stack listens on.
func (g *Guard) Running(natsURL, accountServerURL string) error {
	g.state.NATSURL, g.state.AccountServerURL = natsURL, accountServerURL
	return g.write()
}

func (g *Guard) write() error {
	data, _ := json.MarshalIndent(g.state, "", "  ")
	if err := store.WriteFileAtomic(g.path, append(data, '\n'), 0o600, 0o700); err != nil {
		return fmt.Errorf("write %s: %w", g.path, err)
	}
	return nil
}

// Release removes the state file and drops the lock. It is safe to call more than once.
func (g *Guard) Release() error {
	if g == nil || !g.fl.Locked() {
		return nil
	}
	err := os.Remove(g.path)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	return errors.Join(err, g.fl.Unlock())
}

// ReadState reads the state file of the run folder dir.
func ReadState(dir string) (State, error) {
	var st State
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return State{}, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	}
	return st, nil
}
