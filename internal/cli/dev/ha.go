package dev

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/signet-dev/signet/devstack"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/jwtstore"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/ops"
	"github.com/signet-dev/signet/store"
)

// The account `signet dev --ha` keeps its accounts bucket in, and the user the replicas connect
// to it as. JetStream cannot run in the system account, so the bucket needs an account of its own.
const (
	KVAccount = "SIGNET_KV"
	KVUser    = "signet"
)

// startHA makes sure the KV account exists and runs the HA stack.
func startHA(f *cmdutil.Factory, s *store.Store, ks keystore.KeyStore, opJWT, sysJWT, sysCreds, dir, host string, natsPorts, httpPorts []int, logger *slog.Logger) (*devstack.HAStack, error) {
	kvJWT, kvCreds, err := ensureKVAccount(s, ks)
	if err != nil {
		return nil, err
	}
	return devstack.StartHA(devstack.HAConfig{
		OperatorJWT:      opJWT,
		SystemAccountJWT: sysJWT,
		KVAccountJWT:     kvJWT,
		SystemUserCreds:  sysCreds,
		KVUserCreds:      kvCreds,
		Dir:              dir,
		Host:             host,
		NATSPorts:        natsPorts,
		HTTPPorts:        httpPorts,
		// The signet store is what dev serves: Run pushes all of it once the stack is up, so
		// the bucket can start empty, and a restart is quick (see devstack.HAConfig).
		ResetJetStream: true,
		Logger:         logger,
	})
}

// ensureKVAccount adds the account SIGNET_KV with JetStream enabled (global tier, unlimited)
// and its user signet when missing, and returns the account's JWT and the user's creds file.
func ensureKVAccount(s *store.Store, ks keystore.KeyStore) (string, string, error) {
	l, err := ops.Lock(s, ks)
	if err != nil {
		return "", "", err
	}
	defer l.Unlock()
	if !s.HasAccount(KVAccount) {
		global := 0
		req := ops.AddAccountRequest{Name: KVAccount}
		req.Limits.JSEnable = &global
		if _, err := l.AddAccount(req); err != nil {
			return "", "", err
		}
	}
	ac, tok, err := s.Account(KVAccount)
	if err != nil {
		return "", "", err
	}
	if !ac.Limits.IsJSEnabled() {
		return "", "", fmt.Errorf("account %s holds the accounts bucket of signet dev --ha but has JetStream disabled: enable it with `signet edit account %s --js-enable 0`", KVAccount, KVAccount)
	}
	if !s.HasUser(KVAccount, KVUser) {
		if _, err := l.AddUser(ops.AddUserRequest{Account: KVAccount, Name: KVUser}); err != nil {
			return "", "", err
		}
	}
	creds, err := userCreds(s, ks, KVAccount, KVUser)
	if err != nil {
		return "", "", err
	}
	return tok, creds, nil
}

// controllable says whether in can take failover commands: a terminal this process is in the
// foreground of, or a pipe (a script, a test). /dev/null and files are not.
func controllable(in io.Reader) bool {
	file, ok := in.(*os.File)
	if !ok {
		return false
	}
	if fd := int(file.Fd()); term.IsTerminal(fd) {
		return foreground(fd)
	}
	st, err := file.Stat()
	return err == nil && st.Mode()&os.ModeNamedPipe != 0
}

// haControl is what the failover commands act on (a *devstack.HAStack).
type haControl interface {
	StopNode(int) error
	StartNode(int) error
	StopReplica(int) error
	StartReplica(int) error
	NodeRunning(int) bool
	ReplicaRunning(int) bool
	ClientURLs() []string
	AccountServerURLs() []string
}

// controlHelp is the one line the banner and `h` print.
const controlHelp = "type n1, n2 or n3 and Enter to stop (or start again) a node, r1, r2 or r3 for a replica, s for the status"

// control reads failover commands from in, one a line, until in ends or ctx is done. What it
// did goes to stderr as status lines, the status table to stdout.
func control(ctx context.Context, in io.Reader, ios *cmdutil.IOStreams, h haControl) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if ctx.Err() != nil {
			return
		}
		cmd := strings.ToLower(strings.TrimSpace(sc.Text()))
		switch {
		case cmd == "s" || cmd == "status":
			printStatus(ios.Out, h)
		case cmd == "h" || cmd == "help" || cmd == "?":
			ios.Info("%s", controlHelp)
		case len(cmd) == 2 && (cmd[0] == 'n' || cmd[0] == 'r'):
			i, err := strconv.Atoi(cmd[1:])
			if err != nil || i < 1 || i > devstack.HASize {
				ios.Warn("%q: nodes and replicas are numbered 1 to %d", cmd, devstack.HASize)
				continue
			}
			toggle(ios, h, cmd[0] == 'n', i-1)
		case cmd == "":
		default:
			ios.Warn("unknown command %q: %s", cmd, controlHelp)
		}
	}
}

// toggle stops node (or replica) i when it runs, else starts it.
func toggle(ios *cmdutil.IOStreams, h haControl, node bool, i int) {
	what, url := "replica", h.AccountServerURLs()[i]
	isRunning, stop, start := h.ReplicaRunning, h.StopReplica, h.StartReplica
	if node {
		what, url = "node", h.ClientURLs()[i]
		isRunning, stop, start = h.NodeRunning, h.StopNode, h.StartNode
	}
	if isRunning(i) {
		if err := stop(i); err != nil {
			ios.Warn("stop %s %d: %v", what, i+1, err)
			return
		}
		ios.OK("stopped %s %d (%s)", what, i+1, url)
		return
	}
	ios.Info("starting %s %d...", what, i+1)
	if err := start(i); err != nil {
		ios.Warn("start %s %d: %v", what, i+1, err)
		return
	}
	ios.OK("started %s %d (%s)", what, i+1, url)
}

func printStatus(w io.Writer, h haControl) {
	state := func(up bool) string {
		if up {
			return "running"
		}
		return "stopped"
	}
	for i, u := range h.ClientURLs() {
		fmt.Fprintf(w, "  node %d     %-8s %s\n", i+1, state(h.NodeRunning(i)), u)
	}
	for i, u := range h.AccountServerURLs() {
		fmt.Fprintf(w, "  replica %d  %-8s %s\n", i+1, state(h.ReplicaRunning(i)), u)
	}
}

func printHABanner(f *cmdutil.Factory, s *store.Store, ks keystore.KeyStore, h *devstack.HAStack, created, interactive bool, consoleURL string) {
	w := f.IO.Out
	verb := "reusing"
	if created {
		verb = "created"
	}
	nodes, replicas := h.ClientURLs(), h.AccountServerURLs()
	fmt.Fprintf(w, "signet dev --ha: a secured NATS cluster is running (%s operator %q)\n", verb, s.Name())
	fmt.Fprintf(w, "  NATS URL:        %s\n", strings.Join(nodes, ","))
	fmt.Fprintf(w, "  Account server:  %s\n", replicas[0])
	for i, u := range nodes {
		fmt.Fprintf(w, "  node %d:          %s\n", i+1, u)
	}
	for i, u := range replicas {
		note := ""
		if i == 0 {
			note = "  (the operator's account server URL)"
		}
		fmt.Fprintf(w, "  replica %d:       %s%s\n", i+1, u, note)
	}
	fmt.Fprintf(w, "  Accounts bucket: %s in account %s, %d replicas (JetStream on the nodes)\n", jwtstore.DefaultKVBucket, KVAccount, devstack.HASize)
	fmt.Fprintf(w, "  Demo user creds: %s\n", ks.CredsPath(s.Name(), DemoAccount, DemoUser))
	fmt.Fprintf(w, "  Web console:     %s\n", consoleURL)
	if interactive {
		fmt.Fprintf(w, "Watch failover: %s.\n", controlHelp)
	} else {
		fmt.Fprintln(w, "Watch failover: run signet dev --ha in a terminal (or with stdin a pipe) to stop and start nodes and replicas.")
	}
	fmt.Fprintln(w, "Try, in another terminal:")
	fmt.Fprintf(w, "  signet tool sub -a %s hello\n", DemoAccount)
	fmt.Fprintf(w, "  signet tool pub -a %s hello world\n", DemoAccount)
	fmt.Fprintf(w, "  signet add account B   (pushed to replica 1; with it stopped: signet push -a B -u %s)\n", replicas[1])
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
}
