// Package cmdutil holds what every signet command shares: the I/O streams, the environment, the
// resolution of folders and of the current operator and account, and the output helpers. It has
// no package-level state: a Factory is built by main (or by a test) and handed to every command.
package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/history"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/redact"
	"github.com/signet-dev/signet/store"
)

// IOStreams are a command's input and outputs.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// TTY is true when Out is a terminal: progress bars and colours only then.
	TTY bool
}

// OK prints a success status line to stderr: "[ OK ] added user "U"". Status lines go where nsc
// sends them, so that stdout carries only data (tables, JSON, creds) and pipes stay clean.
func (s *IOStreams) OK(format string, a ...any) {
	fmt.Fprintf(s.ErrOut, "[ OK ] "+format+"\n", a...)
}

// Warn prints a warning status line to stderr.
func (s *IOStreams) Warn(format string, a ...any) {
	fmt.Fprint(s.ErrOut, redact.Seeds(fmt.Sprintf("[WARN] "+format+"\n", a...)))
}

// Info prints an informational status line to stderr.
func (s *IOStreams) Info(format string, a ...any) {
	fmt.Fprintf(s.ErrOut, "[INFO] "+format+"\n", a...)
}

// Factory gives commands their environment. Tests build one with buffers and a fake env.
type Factory struct {
	IO      *IOStreams
	Getenv  func(string) string
	Environ func() []string
	Now     func() time.Time
	Getwd   func() (string, error)
	HTTP    *http.Client
	DirOpts store.DirOptions
	// OnAccountSaved, when set, runs after a command saved an account JWT (with the store lock
	// released): it pushes the account to the operator's account server for managed operators
	// and for operators that carry an account server URL. The push command wires it.
	OnAccountSaved func(f *Factory, s *store.Store, account string) error
	// Who is recorded in the operator's history as the author of every change; empty means
	// the OS user.
	Who string
}

// storeHook is the hook every store a command opens carries: each JWT written or deleted is
// appended to the operator's history (package history).
func (f *Factory) storeHook() store.Hook {
	who := f.Who
	if who == "" {
		who = history.OSUser()
	}
	return history.Recorder{Who: who, Now: f.Now}
}

// AccountSaved runs the OnAccountSaved hook, if any.
func (f *Factory) AccountSaved(s *store.Store, account string) error {
	if f.OnAccountSaved == nil {
		return nil
	}
	return f.OnAccountSaved(f, s, account)
}

// AccountChanged prints an operation's warnings and status lines about a saved account, then
// runs the OnAccountSaved hook (push), which the caller runs with the store's lock released.
func (f *Factory) AccountChanged(s *store.Store, account string, warnings, changes []string) error {
	for _, w := range warnings {
		f.IO.Warn("%s", w)
	}
	for _, m := range changes {
		f.IO.OK("%s", m)
	}
	return f.AccountSaved(s, account)
}

// NewFactory builds the Factory of a real process.
func NewFactory(in io.Reader, out, errOut io.Writer, tty bool) *Factory {
	return &Factory{
		IO:      &IOStreams{In: in, Out: out, ErrOut: errOut, TTY: tty},
		Getenv:  os.Getenv,
		Environ: os.Environ,
		Now:     time.Now,
		Getwd:   os.Getwd,
		HTTP:    &http.Client{Timeout: 30 * time.Second},
	}
}

// Dirs resolves the config, stores and keystore folders. The stores folder recorded in nsc.json
// wins over the default unless a flag names one.
func (f *Factory) Dirs() (store.Dirs, error) {
	d, _, err := f.context(false)
	return d, err
}

// context resolves the folders and reads nsc.json at most once. nsc.json is read when it names
// the stores folder (no --data-dir/-H) or when needConfig (the current operator and account);
// otherwise, and under NSC_CWD_ONLY, the config returned is empty.
func (f *Factory) context(needConfig bool) (store.Dirs, *store.ToolConfig, error) {
	d, err := store.ResolveDirs(f.DirOpts, f.Getenv)
	if err != nil {
		return d, nil, err
	}
	flagNamesStores := f.DirOpts.DataDir != "" || f.DirOpts.AllDirs != ""
	if d.CwdOnly || (flagNamesStores && !needConfig) {
		return d, &store.ToolConfig{}, nil
	}
	tc, err := store.LoadToolConfig(d.ConfigDir)
	if err != nil {
		return d, nil, err
	}
	if !flagNamesStores && tc.StoreRoot != "" {
		d.StoresDir = tc.StoreRoot
	}
	return d, tc, nil
}

// KeyStore is the keystore in use.
func (f *Factory) KeyStore() (keystore.KeyStore, error) {
	d, err := f.Dirs()
	if err != nil {
		return keystore.KeyStore{}, err
	}
	return keystore.KeyStore{Dir: d.KeystoreDir}, nil
}

// Stores is the folder of operator stores in use.
func (f *Factory) Stores() (store.Stores, error) {
	d, err := f.Dirs()
	if err != nil {
		return store.Stores{}, err
	}
	return store.Stores{Dir: d.StoresDir, Hook: f.storeHook()}, nil
}

// Select records the current operator and account in nsc.json (unless NSC_CWD_ONLY is set).
func (f *Factory) Select(operator, account string) error {
	d, tc, err := f.context(true)
	if err != nil {
		return err
	}
	if d.CwdOnly {
		return nil
	}
	tc.StoreRoot = d.StoresDir
	if operator != "" {
		if tc.Operator != operator {
			tc.Account = ""
		}
		tc.Operator = operator
	}
	if account != "" {
		tc.Account = account
	}
	return tc.Save(d.ConfigDir)
}

// ErrNoOperator is returned when no operator can be chosen.
var errNoOperator = errors.New("no operator selected: create one with `signet init` or `signet add operator NAME`, or choose one with `signet select operator NAME`")

// Operator opens the named operator's store; with an empty name, the current operator: the one
// whose store holds the working directory, else the one in nsc.json, else the only one.
func (f *Factory) Operator(name string) (*store.Store, error) {
	d, tc, err := f.context(name == "")
	if err != nil {
		return nil, err
	}
	stores := store.Stores{Dir: d.StoresDir, Hook: f.storeHook()}
	if name != "" {
		s, err := stores.Open(name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("operator %q not found in %s: list them with `signet list operators`", name, stores.Dir)
		}
		return s, err
	}
	if s := f.cwdStore(); s != nil {
		return s, nil
	}
	if tc.Operator != "" {
		if s, err := stores.Open(tc.Operator); err == nil {
			return s, nil
		}
	}
	ops, err := stores.Operators()
	if err != nil {
		return nil, err
	}
	if len(ops) == 1 {
		return stores.Open(ops[0])
	}
	if len(ops) > 1 {
		return nil, fmt.Errorf("several operators exist (%s): choose one with `signet select operator NAME`", strings.Join(ops, ", "))
	}
	return nil, errNoOperator
}

// cwdStore finds an operator store that holds the working directory.
func (f *Factory) cwdStore() *store.Store {
	if f.Getwd == nil {
		return nil
	}
	wd, err := f.Getwd()
	if err != nil {
		return nil
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, ".nsc")); err == nil {
			if s, err := store.OpenDir(dir); err == nil {
				s.Hook = f.storeHook()
				return s
			}
			return nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}

// Account resolves the account to work on: the flag value (name or public key), else the account
// folder holding the working directory, else nsc.json's account, else the only account.
func (f *Factory) Account(s *store.Store, flag string) (string, error) {
	if flag != "" {
		name, err := s.FindAccount(flag)
		if err != nil {
			return "", fmt.Errorf("%w: list them with `signet list accounts`", err)
		}
		return name, nil
	}
	if f.Getwd != nil {
		if wd, err := f.Getwd(); err == nil {
			rel, err := filepath.Rel(filepath.Join(s.Dir, "accounts"), wd)
			if err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
				name := strings.Split(rel, string(filepath.Separator))[0]
				if s.HasAccount(name) {
					return name, nil
				}
			}
		}
	}
	_, tc, err := f.context(true)
	if err != nil {
		return "", err
	}
	if tc.Account != "" && (tc.Operator == "" || tc.Operator == s.Name()) && s.HasAccount(tc.Account) {
		return tc.Account, nil
	}
	names, err := s.Accounts()
	if err != nil {
		return "", err
	}
	if len(names) == 1 {
		return names[0], nil
	}
	if len(names) == 0 {
		return "", fmt.Errorf("operator %q has no accounts: add one with `signet add account NAME`", s.Name())
	}
	return "", fmt.Errorf("no account selected: pass -a/--account NAME or run `signet select account NAME` (accounts: %s)", strings.Join(names, ", "))
}

// Target is what most commands work on: the current operator's store, an account in it, and
// the keystore.
type Target struct {
	Store    *store.Store
	Account  string
	KeyStore keystore.KeyStore
}

// Target resolves the current operator, the account named by flag (or the current one), and
// the keystore.
func (f *Factory) Target(accountFlag string) (*Target, error) {
	s, err := f.Operator("")
	if err != nil {
		return nil, err
	}
	name, err := f.Account(s, accountFlag)
	if err != nil {
		return nil, err
	}
	ks, err := f.KeyStore()
	if err != nil {
		return nil, err
	}
	return &Target{Store: s, Account: name, KeyStore: ks}, nil
}

// Locked is the current operator's store held under its lock, with the keystore and the
// operator claims read under the lock.
type Locked struct {
	Store    *store.Store
	KeyStore keystore.KeyStore
	Operator *jwt.OperatorClaims
	// Unlock releases the lock; calling it more than once is harmless.
	Unlock func()
}

// LockOperator opens the current operator's store and the keystore, takes the store's lock and
// reads the operator; the caller defers Unlock.
func (f *Factory) LockOperator() (*Locked, error) { return f.LockNamedOperator("") }

// LockNamedOperator is LockOperator for the named operator ("" is the current one).
func (f *Factory) LockNamedOperator(name string) (*Locked, error) {
	s, err := f.Operator(name)
	if err != nil {
		return nil, err
	}
	ks, err := f.KeyStore()
	if err != nil {
		return nil, err
	}
	unlock, err := s.Lock()
	if err != nil {
		return nil, err
	}
	oc, _, err := s.Operator()
	if err != nil {
		unlock()
		return nil, err
	}
	return &Locked{Store: s, KeyStore: ks, Operator: oc, Unlock: unlock}, nil
}
