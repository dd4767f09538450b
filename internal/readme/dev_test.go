//go:build unix

package readme

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/keystore"
)

// devProc is `signet dev` running in the background: the Quickstart's terminal 1.
type devProc struct {
	cmd           *exec.Cmd
	natsURL       string // from the banner
	accountServer string // from the banner: http://host:port/jwt/v1
	httpAddr      string // host:port of the account server
	out, errOut   *natstest.SyncBuffer
	exited        chan error
	stopped       bool
}

// startDev starts the sandbox's `signet dev` with its default ports, as the Quickstart's
// terminal 1 does, and waits for its banner.
func startDev(t *testing.T, sb *sandbox) *devProc {
	t.Helper()
	cmd := exec.Command(filepath.Join(sb.bin, "signet"), "dev")
	cmd.Dir = sb.home
	cmd.Env = sb.env
	p := &devProc{cmd: cmd, out: &natstest.SyncBuffer{}, errOut: &natstest.SyncBuffer{}, exited: make(chan error, 1)}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = p.errOut
	if err := cmd.Start(); err != nil {
		t.Fatalf("start signet dev: %v", err)
	}
	t.Cleanup(func() {
		if !p.stopped {
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("signet dev (the Quickstart's terminal 1) printed:\n%s\nstderr:\n%s", p.out.String(), p.errOut.String())
		}
	})
	banner := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(io.TeeReader(stdout, p.out))
		seen := false
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if v, ok := strings.CutPrefix(line, "NATS URL:"); ok {
				p.natsURL = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(line, "Account server:"); ok {
				p.accountServer = strings.TrimSpace(v)
			}
			if !seen && strings.HasPrefix(line, "Press Ctrl-C") {
				seen = true
				close(banner)
			}
		}
	}()
	go func() { p.exited <- cmd.Wait() }()
	select {
	case <-banner:
	case err := <-p.exited:
		p.stopped = true
		p.exited <- err
		t.Fatalf("signet dev exited before its banner: %v\n%s\n%s", err, p.out.String(), p.errOut.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("signet dev printed no banner within 2 minutes:\n%s\n%s", p.out.String(), p.errOut.String())
	}
	u, err := url.Parse(p.accountServer)
	if err != nil || p.natsURL == "" || u.Host == "" {
		t.Fatalf("signet dev's banner has no NATS URL or account server URL:\n%s", p.out.String())
	}
	p.httpAddr = u.Host
	return p
}

// stop interrupts dev as Ctrl-C in terminal 1 does and checks that it stops cleanly.
func (p *devProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatalf("interrupt signet dev: %v", err)
	}
	select {
	case err := <-p.exited:
		p.stopped = true
		if err != nil {
			t.Errorf("signet dev ended with %v after Ctrl-C, want a clean stop", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("signet dev did not stop within 30s of Ctrl-C")
	}
}

// portFree says whether addr can be listened on now.
func portFree(addr string) bool {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// poll calls done until it is true, for at most d; it reports whether it became true.
func poll(d time.Duration, done func() bool) bool {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !done() {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}

// waitForOutput waits until the transcript holds want (printed by a background command).
func waitForOutput(t *testing.T, transcript, want, what string) {
	t.Helper()
	if !poll(20*time.Second, func() bool {
		b, _ := os.ReadFile(transcript)
		return strings.Contains(string(b), want)
	}) {
		t.Fatalf("%s: no %q in the transcript within 20s", what, want)
	}
}

// watchedConn is a connection whose closing the test waits for.
type watchedConn struct {
	nc     *nats.Conn
	closed chan struct{}
}

// connectCreds connects with a creds file, without reconnecting: a server that drops the
// connection closes it for good.
func connectCreds(t *testing.T, natsURL, creds string) *watchedConn {
	t.Helper()
	w := &watchedConn{closed: make(chan struct{})}
	nc, err := nats.Connect(natsURL, nats.UserCredentials(creds), nats.NoReconnect(),
		nats.ClosedHandler(func(*nats.Conn) { close(w.closed) }),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		t.Fatalf("%s does not connect to signet dev at %s before the revocation: %v", filepath.Base(creds), natsURL, err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatalf("%s: flush: %v", filepath.Base(creds), err)
	}
	w.nc = nc
	t.Cleanup(nc.Close)
	return w
}

// waitClosed waits until the server has closed the connection.
func (w *watchedConn) waitClosed(t *testing.T, what string) {
	t.Helper()
	select {
	case <-w.closed:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s, but its connection is still open 20s later", what)
	}
}

// refused checks that the server refuses a connection with the creds file.
func refused(t *testing.T, natsURL, creds string) {
	t.Helper()
	nc, err := nats.Connect(natsURL, nats.UserCredentials(creds), nats.NoReconnect())
	if err == nil {
		nc.Close()
		t.Fatalf("%s still connects to signet dev after the revocation", filepath.Base(creds))
	}
	if !errors.Is(err, nats.ErrAuthorization) && !errors.Is(err, nats.ErrAuthRevoked) {
		t.Errorf("%s after the revocation: %v, want the server's refusal", filepath.Base(creds), err)
	}
}

// checkLive checks that an account just added while dev runs is live: dev's account server
// serves the store's JWT, and a user of the account connects to dev's nats-server.
func checkLive(t *testing.T, sb *sandbox, dev *devProc, name string) {
	t.Helper()
	local := strings.TrimSpace(sb.signet(t, nil, "describe", "account", name, "--raw"))
	ac, err := jwt.DecodeAccountClaims(local)
	if err != nil {
		t.Fatalf("describe account %s --raw: %v", name, err)
	}
	served, _ := fetchAccount(t, dev.accountServer, ac.Subject)
	if served != local {
		t.Errorf("right after `add account %s`, dev's account server holds another JWT than the store:\nlocal:  %s\nserved: %s", name, local, served)
	}
	// A user signed by the account's key, made here so the README's store is left as it is.
	ks := keystore.KeyStore{Dir: filepath.Join(sb.home, "data", "nats", "nsc", "keys")}
	signer, err := ks.Get(ac.Subject)
	if err != nil {
		t.Fatalf("the key of account %s: %v", name, err)
	}
	ukp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	upub, _ := ukp.PublicKey()
	useed, _ := ukp.Seed()
	uc := jwt.NewUserClaims(upub)
	uc.Name = "probe"
	tok, err := uc.Encode(signer)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(dev.natsURL, nats.UserJWTAndSeed(tok, string(useed)), nats.NoReconnect())
	if err != nil {
		t.Fatalf("right after `add account %s`, a user of it cannot connect to signet dev: %v", name, err)
	}
	defer nc.Close()
	if err := nc.Flush(); err != nil {
		t.Fatalf("a user of %s on signet dev: %v", name, err)
	}
}
