package dev_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// parentEnv makes the test binary a parent process that starts signet (the value: its path)
// with the arguments after "--" and waits for it, as `go run` does, for
// TestDevStopsWhenItsParentExits.
const parentEnv = "SIGNET_DEV_TEST_PARENT"

func TestMain(m *testing.M) {
	if bin := os.Getenv(parentEnv); bin != "" {
		args := os.Args[slices.Index(os.Args, "--")+1:]
		cmd := exec.Command(bin, args...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
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
	httpURL  string
	creds    string
	banner   string
	stderr   *strings.Builder
	finished chan error
	// stdoutDone is closed when stdout reaches EOF: every process holding it has exited.
	stdoutDone chan struct{}
	// stopping is closed when dev prints that it stops.
	stopping chan struct{}
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
	p := &devProc{cmd: cmd, stderr: &strings.Builder{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.waitBanner(p, stdout)
	return p
}

// waitBanner reads dev's stdout until its banner is complete.
func (e *env) waitBanner(p *devProc, stdout io.Reader) {
	e.t.Helper()
	p.finished = make(chan error, 1)
	p.stdoutDone = make(chan struct{})
	p.stopping = make(chan struct{})
	ready := make(chan struct{})
	go func() {
		defer close(p.stdoutDone)
		sc := bufio.NewScanner(stdout)
		var b strings.Builder
		for sc.Scan() {
			line := sc.Text()
			b.WriteString(line + "\n")
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "NATS URL:"); ok {
				p.natsURL = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Account server:"); ok {
				p.httpURL = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Demo user creds:"); ok {
				p.creds = strings.TrimSpace(v)
			}
			if strings.HasPrefix(line, "Press Ctrl-C") {
				p.banner = b.String()
				close(ready)
			}
			if strings.HasPrefix(line, "signet dev: stopping") {
				close(p.stopping)
			}
		}
	}()
	go func() { p.finished <- p.cmd.Wait() }()
	select {
	case <-ready:
	case err := <-p.finished:
		e.t.Fatalf("signet dev exited early: %v\n%s", err, p.stderr.String())
	case <-time.After(60 * time.Second):
		_ = p.cmd.Process.Kill()
		e.t.Fatalf("signet dev printed no banner within 60s\n%s", p.stderr.String())
	}
	e.t.Cleanup(func() { _ = p.cmd.Process.Kill() })
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
	healthyAfterBanner(t, p)
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
	healthyAfterBanner(t, p2)
	p2.stop(t)
	noWarnings(t, p2)
}

// healthyAfterBanner checks that the account server says ok, with its NATS connection up, as
// soon as the banner says the system is running.
func healthyAfterBanner(t *testing.T, p *devProc) {
	t.Helper()
	base := strings.TrimSuffix(p.httpURL, "/jwt/v1")
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Status string `json:"status"`
		NATS   struct {
			Connected bool `json:"connected"`
		} `json:"nats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || h.Status != "ok" || !h.NATS.Connected {
		t.Fatalf("/healthz right after the banner: %d %+v", resp.StatusCode, h)
	}
}

// noWarnings checks that a stopped dev printed no warning and no log line.
func noWarnings(t *testing.T, p *devProc) {
	t.Helper()
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		if strings.Contains(line, "WARN") || strings.Contains(line, "level=") {
			t.Fatalf("a clean start and stop printed %q; stderr:\n%s", line, p.stderr.String())
		}
	}
}

// operatorJWT is the stored JWT of operator dev.
func operatorJWT(t *testing.T, home string) *jwt.OperatorClaims {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(home, "data", "nats", "nsc", "stores", "dev", "dev.jwt"))
	if err != nil {
		t.Fatal(err)
	}
	oc, err := jwt.DecodeOperatorClaims(string(data))
	if err != nil {
		t.Fatal(err)
	}
	return oc
}

func TestSecondDevForTheSameOperatorIsRefused(t *testing.T) {
	e := &env{t: t, home: t.TempDir()}
	p := e.startDev(freePort(t), freePort(t))
	before := operatorJWT(t, e.home)

	// Other free ports, as a second `signet dev` without flags would take.
	cmd := exec.Command(signetBin, "dev", "--nats-port", fmt.Sprint(freePort(t)), "--http-port", fmt.Sprint(freePort(t)))
	cmd.Env = e.environ()
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("a second signet dev for operator dev started:\n%s", out)
	}
	want := fmt.Sprintf("signet dev is already running for operator dev (pid %d, %s, %s)", p.cmd.Process.Pid, p.natsURL, p.httpURL)
	if !strings.Contains(string(out), want) {
		t.Fatalf("second signet dev said:\n%s\nwant %q", out, want)
	}
	after := operatorJWT(t, e.home)
	if after.AccountServerURL != before.AccountServerURL || !slices.Equal(after.OperatorServiceURLs, before.OperatorServiceURLs) ||
		after.AccountServerURL != p.httpURL {
		t.Fatalf("the refused dev changed the operator's URLs: %s %v -> %s %v",
			before.AccountServerURL, before.OperatorServiceURLs, after.AccountServerURL, after.OperatorServiceURLs)
	}
	// The first still serves, and commands still reach it.
	roundTrip(t, p.natsURL, p.creds, "still.here")
	e.run("add", "account", "LATE")
	e.run("add", "user", "late", "-a", "LATE")
	roundTrip(t, p.natsURL, filepath.Join(e.home, "data", "nats", "nsc", "keys", "creds", "dev", "LATE", "late.creds"), "late")

	// Once the first stops, its lock is gone and another starts.
	p.stop(t)
	noWarnings(t, p)
	p2 := e.startDev(freePort(t), freePort(t))
	p2.stop(t)
}

func TestDevStopsWhenItsParentExits(t *testing.T) {
	e := &env{t: t, home: t.TempDir()}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The test binary as the parent, as `go run` is: killing it leaves signet dev behind
	// unless dev follows its parent.
	parent := exec.Command(os.Args[0], "--", "dev", "--nats-port", fmt.Sprint(freePort(t)), "--http-port", fmt.Sprint(freePort(t)))
	parent.Env = append(e.environ(), parentEnv+"="+signetBin)
	parent.Stdout = w
	p := &devProc{cmd: parent, stderr: &strings.Builder{}}
	parent.Stderr = p.stderr
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	e.waitBanner(p, r)
	state, err := devstack.ReadState(filepath.Join(e.home, "data", "nats", "nsc", "signet-dev", "dev"))
	if err != nil || state.PID == parent.Process.Pid {
		t.Fatalf("state of the running dev: %+v %v", state, err)
	}

	if err := parent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.stopping:
	case <-time.After(20 * time.Second):
		t.Fatal("signet dev did not stop within 20s of its parent's death")
	}
	select {
	case <-p.stdoutDone:
	case <-time.After(20 * time.Second):
		t.Fatal("signet dev did not exit within 20s of its parent's death")
	}
	// It stopped cleanly: the state file is gone and its lock free.
	if _, err := devstack.ReadState(filepath.Join(e.home, "data", "nats", "nsc", "signet-dev", "dev")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the state file outlived dev: %v", err)
	}
	p2 := e.startDev(freePort(t), freePort(t))
	p2.stop(t)
}

func freePort(t *testing.T) int {
	t.Helper()
	p, err := devstack.FreePort("127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
