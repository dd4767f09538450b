// Package dev holds `signet dev`: one command to a running, secured NATS system.
package dev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-dev/signet/devstack"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	consolecmd "github.com/signet-dev/signet/internal/cli/console"
	"github.com/signet-dev/signet/internal/cli/entity"
	"github.com/signet-dev/signet/internal/shellquote"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/redact"
	"github.com/signet-dev/signet/remote"
	"github.com/signet-dev/signet/store"
)

// Register attaches `dev` to the root command.
func Register(f *cmdutil.Factory, root *cobra.Command, verbs map[string]*cobra.Command) {
	root.AddCommand(NewCmdDev(f))
}

// Options are the inputs of `signet dev`.
type Options struct {
	Operator string
	Dir      string
	Host     string
	NATSPort int
	HTTPPort int
	Verbose  bool
	// HA runs three nats-server nodes and three signet serve replicas sharing a JetStream KV
	// bucket instead of one of each (see docs/ha.md).
	HA bool
	// Parent is the pid of the process that started dev (0: none to follow): dev stops when
	// that process exits, so that an orphan (the child of a killed `go run`, say) does not keep
	// the operator's ports and lock.
	Parent int
	// ParentPoll is how often the parent is checked; default 250ms.
	ParentPoll time.Duration
}

// Demo names: the account and user `signet dev` creates.
const (
	DemoAccount = "APP"
	DemoUser    = "demo"
)

// NewCmdDev builds `signet dev`.
func NewCmdDev(f *cmdutil.Factory) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a secured NATS system for development: nats-server + signet serve, one command",
		Long: `Run an embedded nats-server that trusts a development operator and resolves accounts
through an in-process account server. The operator (default "dev"), its system account, an
account APP and a user demo live in the ordinary signet store, so every other signet command
works on them; account changes made while dev runs are pushed to it automatically.

With --ha it runs a 3-node JetStream cluster instead (full NATS resolver, the system account
and a JetStream-enabled account SIGNET_KV preloaded) and 3 signet serve replicas that keep the
accounts in a KV bucket of SIGNET_KV on that cluster: the layout of docs/ha.md (topology 2).
--nats-port and --http-port are then the first of three consecutive ports. When stdin is a
terminal (or a pipe), typing n1..n3 or r1..r3 and Enter stops a node or replica, or starts it
again, so failover can be watched; s prints what runs.

One signet dev runs per operator: a second one for the same operator is refused and names the
first. dev stops on Ctrl-C, SIGTERM, or when the process that started it exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Parent = os.Getppid()
			return Run(cmd.Context(), f, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.Operator, "operator", "dev", "operator to run (created with a signing key and a system account if missing)")
	fs.StringVar(&o.Dir, "dir", "", "folder for the account server's JWTs and the server's data (default <data dir>/signet-dev/<operator>)")
	fs.StringVar(&o.Host, "host", "127.0.0.1", "address to listen on")
	fs.IntVar(&o.NATSPort, "nats-port", 0, "NATS client port (default 4222, or a free port when taken)")
	fs.IntVar(&o.HTTPPort, "http-port", 0, "account server port (default 9090, or a free port when taken)")
	fs.BoolVarP(&o.Verbose, "verbose", "v", false, "log the account server's activity")
	fs.BoolVar(&o.HA, "ha", false, "run 3 nats-server nodes and 3 signet serve replicas sharing a JetStream KV bucket; stop and start them from stdin to watch failover")
	return cmd
}

// Run prepares the store and runs the stack until ctx is cancelled (or the parent exits).
//
// The order matters: the operator's lock first (a second dev for the same operator is refused
// before it changes anything), then the ports (a port taken fails before the store is touched),
// then the store, then the stack; the operator is pointed at the stack's URLs only once both
// servers listen.
func Run(ctx context.Context, f *cmdutil.Factory, o *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.NATSPort < 0 || o.NATSPort > 65535 || o.HTTPPort < 0 || o.HTTPPort > 65535 {
		return errors.New("--nats-port and --http-port must be between 1 and 65535")
	}
	if err := store.ValidateName(o.Operator); err != nil {
		return fmt.Errorf("--operator: %w", err)
	}
	stores, err := f.Stores()
	if err != nil {
		return err
	}
	ks, err := f.KeyStore()
	if err != nil {
		return err
	}
	runDir := RunDir(stores, o.Operator)
	guard, err := devstack.Acquire(runDir, o.Operator)
	if err != nil {
		return err
	}
	defer guard.Release()
	if o.Parent > 1 {
		var stop context.CancelFunc
		ctx, stop = context.WithCancel(ctx)
		defer stop()
		go watchParent(ctx, f, o.Parent, os.Getppid, o.ParentPoll, stop)
	}
	var natsPorts, httpPorts []int
	if o.HA {
		if natsPorts, httpPorts, err = devstack.HAPorts(o.Host, o.NATSPort, o.HTTPPort); err != nil {
			return portError(o, err)
		}
	} else {
		natsPort, httpPort, err := devstack.Ports(o.Host, o.NATSPort, o.HTTPPort)
		if err != nil {
			return err
		}
		if err := devstack.CheckPorts(o.Host, natsPort, httpPort); err != nil {
			return portError(o, err)
		}
		natsPorts, httpPorts = []int{natsPort}, []int{httpPort}
	}
	s, created, err := ensureOperator(f, stores, ks, o.Operator)
	if err != nil {
		return err
	}
	oc, opJWT, err := s.Operator()
	if err != nil {
		return err
	}
	sysName, err := s.FindAccount(oc.SystemAccount)
	if err != nil {
		return fmt.Errorf("system account of operator %q: %w", s.Name(), err)
	}
	sysJWT, err := s.AccountJWT(sysName)
	if err != nil {
		return err
	}
	sysCreds, err := systemCreds(s, ks, sysName)
	if err != nil {
		return err
	}
	dir := o.Dir
	if dir == "" {
		dir = runDir
	}
	level := slog.LevelWarn
	if o.Verbose {
		level = slog.LevelInfo
	}
	logger := redact.Logger(slog.New(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: level})))
	var stack running
	if o.HA {
		var h *devstack.HAStack
		h, err = startHA(f, s, ks, opJWT, sysJWT, sysCreds, dir, o.Host, natsPorts, httpPorts, logger)
		stack = h
	} else {
		var one *devstack.Stack
		one, err = devstack.Start(devstack.Config{
			OperatorJWT:      opJWT,
			SystemAccountJWT: sysJWT,
			SystemUserCreds:  sysCreds,
			Dir:              dir,
			Host:             o.Host,
			NATSPort:         natsPorts[0],
			HTTPPort:         httpPorts[0],
			Logger:           logger,
		})
		stack = single{one}
	}
	if err != nil {
		return portError(o, err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = stack.Shutdown(sctx)
	}()
	// The servers listen: now the operator may name them.
	accountServer, serviceURLs := stack.AccountServerURLs()[0], stack.ClientURLs()
	if err := pointOperatorAt(s, ks, accountServer, serviceURLs); err != nil {
		return err
	}
	if _, opJWT, err = s.Operator(); err != nil {
		return err
	}
	if err := stack.SetOperator(opJWT); err != nil {
		return err
	}
	if err := f.Select(s.Name(), DemoAccount); err != nil {
		return err
	}
	if err := guard.Running(strings.Join(serviceURLs, ","), accountServer); err != nil {
		return err
	}
	if err := pushAll(ctx, f, s, accountServer); err != nil {
		return err
	}
	web, err := consolecmd.Start(f, s, "127.0.0.1", 0, false)
	if err != nil {
		return err
	}
	defer func() { _ = web.Stop(context.Background()) }()
	if h, ok := stack.(*devstack.HAStack); ok {
		interactive := controllable(f.IO.In)
		printHABanner(f, s, ks, h, created, interactive, web.URL)
		if interactive {
			go control(ctx, f.IO.In, f.IO, h)
		}
	} else {
		printBanner(f, s, ks, stack.(single).Stack, created, web.URL)
	}
	<-ctx.Done()
	fmt.Fprintln(f.IO.Out, "signet dev: stopping")
	return nil
}

// RunDir is the folder of dev's lock and state file for an operator, and by default of its
// account server's JWTs and the server's data: <data dir>/signet-dev/<operator>.
func RunDir(stores store.Stores, operator string) string {
	return filepath.Join(filepath.Dir(stores.Dir), "signet-dev", operator)
}

// portError names the flag behind a port that cannot be listened on.
func portError(o *Options, err error) error {
	var pe *devstack.PortError
	if !errors.As(err, &pe) {
		return err
	}
	flag, given := "--http-port", o.HTTPPort != 0
	if pe.What == "NATS" {
		flag, given = "--nats-port", o.NATSPort != 0
	}
	if given {
		return fmt.Errorf("%s %d: %w; choose another port, or leave %s out to take a free one", flag, pe.Port, err, flag)
	}
	return fmt.Errorf("%w; try again, or choose a port with %s", err, flag)
}

// watchParent cancels dev (stop) once the process that started it, parent, is no longer its
// parent: it exited and dev was handed to another process. Polling the parent pid works on
// every Unix and, unlike Linux's PR_SET_PDEATHSIG, does not fire when only the thread that
// started dev ends.
func watchParent(ctx context.Context, f *cmdutil.Factory, parent int, getppid func() int, every time.Duration, stop context.CancelFunc) {
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if getppid() != parent {
				f.IO.Info("the process that started signet dev (pid %d) exited: stopping", parent)
				stop()
				return
			}
		}
	}
}

// ensureOperator opens the dev operator, creating it (with a signing key, a system account, the
// demo account and user) when missing.
func ensureOperator(f *cmdutil.Factory, stores store.Stores, ks keystore.KeyStore, name string) (*store.Store, bool, error) {
	if s, err := stores.Open(name); err == nil {
		if s.Info.Managed {
			return nil, false, fmt.Errorf("operator %q is managed (its key is held elsewhere): signet dev needs a local operator; pass --operator NAME", name)
		}
		if err := ensureDemo(s, ks); err != nil {
			return nil, false, err
		}
		return s, false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	if err := entity.RunAddOperator(quiet(f), &entity.AddOperatorOptions{Name: name, Sys: true, GenerateSK: true}); err != nil {
		return nil, false, err
	}
	s, err := stores.Open(name)
	if err != nil {
		return nil, false, err
	}
	if err := ensureDemo(s, ks); err != nil {
		return nil, false, err
	}
	return s, true, nil
}

// ensureDemo adds account APP (signed by the operator's signing key) and its user demo if missing.
func ensureDemo(s *store.Store, ks keystore.KeyStore) error {
	l, err := ops.Lock(s, ks)
	if err != nil {
		return err
	}
	defer l.Unlock()
	if !s.HasAccount(DemoAccount) {
		// No -K: the signer rule picks the operator's signing key.
		if _, err := l.AddAccount(ops.AddAccountRequest{Name: DemoAccount}); err != nil {
			return err
		}
	}
	if !s.HasUser(DemoAccount, DemoUser) {
		if _, err := l.AddUser(ops.AddUserRequest{Account: DemoAccount, Name: DemoUser}); err != nil {
			return err
		}
	}
	return nil
}

// pointOperatorAt makes the operator carry the dev account server and service URLs, and turns
// its automatic push on, so that other signet commands push to it and `signet tool` connects
// to it.
func pointOperatorAt(s *store.Store, ks keystore.KeyStore, accountServer string, serviceURLs []string) error {
	unlock, err := s.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.SetAutoPush(true); err != nil {
		return err
	}
	oc, _, err := s.Operator()
	if err != nil {
		return err
	}
	if oc.AccountServerURL == accountServer && slices.Equal(oc.OperatorServiceURLs, serviceURLs) {
		return nil
	}
	oc.AccountServerURL = accountServer
	oc.OperatorServiceURLs = serviceURLs
	_, err = ops.SaveOperatorClaims(s, ks, oc)
	return err
}

// systemCreds returns the creds file of a system account user, writing it from the store and
// keystore when missing.
func systemCreds(s *store.Store, ks keystore.KeyStore, sysName string) (string, error) {
	users, err := s.UserNames(sysName)
	if err != nil {
		return "", err
	}
	for _, u := range users {
		if p, err := userCreds(s, ks, sysName, u); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("system account %q has no user whose seed the keystore holds: add one with `signet add user sys -a %s`", sysName, shellquote.Quote(sysName))
}

// userCreds returns the keystore's creds file of a user, writing it from the store and keystore
// when missing.
func userCreds(s *store.Store, ks keystore.KeyStore, account, user string) (string, error) {
	p := ks.CredsPath(s.Name(), account, user)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	uc, tok, err := s.User(account, user)
	if err != nil {
		return "", err
	}
	kp, err := ks.Get(uc.Subject)
	if err != nil {
		return "", fmt.Errorf("creds of user %q of account %q: %w", user, account, err)
	}
	seed, _ := kp.Seed()
	return ks.WriteCreds(s.Name(), account, user, tok, seed)
}

// pushAll brings the account server up to date with the store (accounts added while dev was
// not running).
func pushAll(ctx context.Context, f *cmdutil.Factory, s *store.Store, url string) error {
	names, err := s.Accounts()
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, n := range names {
		tok, err := s.AccountJWT(n)
		if err != nil {
			return err
		}
		if _, err := remote.PushHTTP(ctx, client, url, tok); err != nil {
			var he *remote.HTTPError
			if errors.As(err, &he) && he.Status == http.StatusConflict {
				continue // the server already holds a newer copy
			}
			f.IO.Warn("account %q was not loaded into the dev account server: %v", n, err)
		}
	}
	return nil
}

func printBanner(f *cmdutil.Factory, s *store.Store, ks keystore.KeyStore, stack *devstack.Stack, created bool, consoleURL string) {
	w := f.IO.Out
	verb := "reusing"
	if created {
		verb = "created"
	}
	fmt.Fprintf(w, "signet dev: a secured NATS system is running (%s operator %q)\n", verb, s.Name())
	fmt.Fprintf(w, "  NATS URL:        %s\n", stack.ClientURL())
	fmt.Fprintf(w, "  Account server:  %s\n", stack.AccountServerURL())
	fmt.Fprintf(w, "  Demo user creds: %s\n", ks.CredsPath(s.Name(), DemoAccount, DemoUser))
	fmt.Fprintf(w, "  Web console:     %s\n", consoleURL)
	fmt.Fprintln(w, "Try, in another terminal:")
	fmt.Fprintf(w, "  signet tool sub -a %s hello\n", DemoAccount)
	fmt.Fprintf(w, "  signet tool pub -a %s hello world\n", DemoAccount)
	fmt.Fprintf(w, "  signet add user alice -a %s && signet generate creds -a %s -n alice\n", DemoAccount, DemoAccount)
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
}

// running is what Run needs of the stack it started, one node or HA.
type running interface {
	ClientURLs() []string
	AccountServerURLs() []string
	SetOperator(operatorJWT string) error
	Shutdown(ctx context.Context) error
}

// single is the one-node stack as a running one.
type single struct{ *devstack.Stack }

func (s single) ClientURLs() []string        { return []string{s.ClientURL()} }
func (s single) AccountServerURLs() []string { return []string{s.AccountServerURL()} }

// quiet is f without status lines on stdout (dev prints its own banner) and without the
// account-saved push: nothing is running yet while dev prepares the store; it pushes everything
// once the account server is up.
func quiet(f *cmdutil.Factory) *cmdutil.Factory {
	q := *f
	q.IO = &cmdutil.IOStreams{In: f.IO.In, Out: io.Discard, ErrOut: f.IO.ErrOut}
	q.OnAccountSaved = nil
	return &q
}
