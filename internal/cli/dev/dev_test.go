package dev_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/devstack"

	// The test runs a signet binary it builds; importing the command tree makes Go's test cache
	// notice when the code behind that binary changes.
	_ "github.com/signet-dev/signet/internal/cli"
)

var signetBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "signet-dev-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	signetBin = filepath.Join(dir, "signet")
	build := exec.Command("go", "build", "-o", signetBin, "github.com/signet-dev/signet/cmd/signet")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build signet:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type env struct {
	t    *testing.T
	home string
}

func (e *env) environ() []string {
	return append(os.Environ(),
		"HOME="+e.home,
		"XDG_CONFIG_HOME="+filepath.Join(e.home, "config"),
		"XDG_DATA_HOME="+filepath.Join(e.home, "data"),
		"NKEYS_PATH=", "NSC_HOME=", "SIGNET_NO_PUSH=",
	)
}

func (e *env) run(args ...string) string {
	e.t.Helper()
	cmd := exec.Command(signetBin, args...)
	cmd.Env = e.environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		e.t.Fatalf("signet %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

type devProc struct {
	cmd      *exec.Cmd
	natsURL  string
	creds    string
	banner   string
	stderr   *strings.Builder
	finished chan error
}

// startDev starts `signet dev` and waits for its banner.
func (e *env) startDev(natsPort, httpPort int) *devProc {
	e.t.Helper()
	cmd := exec.Command(signetBin, "dev", "--nats-port", fmt.Sprint(natsPort), "--http-port", fmt.Sprint(httpPort))
	cmd.Env = e.environ()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	p := &devProc{cmd: cmd, stderr: &strings.Builder{}, finished: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		var b strings.Builder
		for sc.Scan() {
			line := sc.Text()
			b.WriteString(line + "\n")
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "NATS URL:"); ok {
				p.natsURL = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Demo user creds:"); ok {
				p.creds = strings.TrimSpace(v)
			}
			if strings.HasPrefix(line, "Press Ctrl-C") {
				p.banner = b.String()
				close(ready)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { p.finished <- cmd.Wait() }()
	select {
	case <-ready:
	case err := <-p.finished:
		e.t.Fatalf("signet dev exited early: %v\n%s", err, p.stderr.String())
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		e.t.Fatalf("signet dev printed no banner within 60s\n%s", p.stderr.String())
	}
	e.t.Cleanup(func() { _ = cmd.Process.Kill() })
	return p
}

func (p *devProc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-p.finished:
		if err != nil {
			t.Fatalf("signet dev did not stop cleanly: %v\n%s", err, p.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("signet dev did not stop within 30s of Ctrl-C")
	}
}

func roundTrip(t *testing.T, url, creds, subject string) {
	t.Helper()
	nc, err := nats.Connect(url, nats.UserCredentials(creds))
	if err != nil {
		t.Fatalf("connect with %s: %v", creds, err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(subject, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil || string(m.Data) != "hi" {
		t.Fatalf("round trip on %s: %v", subject, err)
	}
}

func operatorKey(t *testing.T, home string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(home, "data", "nats", "nsc", "stores", "dev", "dev.jwt"))
	if err != nil {
		t.Fatal(err)
	}
	oc, err := jwt.DecodeOperatorClaims(string(data))
	if err != nil {
		t.Fatal(err)
	}
	return oc.Subject
}

func TestDevEndToEnd(t *testing.T) {
	e := &env{t: t, home: t.TempDir()}
	natsPort, err := devstack.FreePort("127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	httpPort, err := devstack.FreePort("127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	p := e.startDev(natsPort, httpPort)
	for _, want := range []string{"signet tool pub", "signet tool sub", "signet generate creds", "Account server:"} {
		if !strings.Contains(p.banner, want) {
			t.Fatalf("banner lacks %q:\n%s", want, p.banner)
		}
	}
	roundTrip(t, p.natsURL, p.creds, "hello")

	// An account and user added while dev runs work at once.
	e.run("add", "account", "B")
	e.run("add", "user", "bob", "-a", "B")
	bobCreds := filepath.Join(e.home, "data", "nats", "nsc", "keys", "creds", "dev", "B", "bob.creds")
	roundTrip(t, p.natsURL, bobCreds, "b.subject")

	// Revoking bob disconnects him.
	closed := make(chan struct{})
	nc, err := nats.Connect(p.natsURL, nats.UserCredentials(bobCreds), nats.NoReconnect(),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	e.run("revocations", "add-user", "-a", "B", "-n", "bob")
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("revoked user bob was not disconnected")
	}
	if nc2, err := nats.Connect(p.natsURL, nats.UserCredentials(bobCreds)); err == nil {
		nc2.Close()
		t.Fatal("revoked user bob can connect again")
	}

	opKey := operatorKey(t, e.home)
	p.stop(t)

	// A second run brings back the same operator, accounts and users.
	p2 := e.startDev(natsPort, httpPort)
	if !strings.Contains(p2.banner, "reusing operator") {
		t.Fatalf("second run did not reuse the operator:\n%s", p2.banner)
	}
	if got := operatorKey(t, e.home); got != opKey {
		t.Fatalf("second run changed the operator key: %s -> %s", opKey, got)
	}
	roundTrip(t, p2.natsURL, p2.creds, "hello.again")
	p2.stop(t)
}
