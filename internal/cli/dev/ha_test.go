package dev_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
)

// haProc is a running `signet dev --ha` whose stdin the test types into.
type haProc struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	nodes    []string
	replicas []string
	creds    string
	banner   string
	finished chan error

	mu     sync.Mutex
	stderr []string
	more   chan struct{} // a token each time stderr gets a line
}

func (e *env) startDevHA() *haProc {
	e.t.Helper()
	cmd := exec.Command(signetBin, "dev", "--ha")
	cmd.Env = e.environ()
	p := &haProc{cmd: cmd, finished: make(chan error, 1), more: make(chan struct{}, 1)}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		e.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr = append(p.stderr, sc.Text())
			p.mu.Unlock()
			select {
			case p.more <- struct{}{}:
			default:
			}
		}
	}()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		var b strings.Builder
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			b.WriteString(line + "\n")
			var n int
			var u string
			if _, err := fmt.Sscanf(line, "node %d: %s", &n, &u); err == nil {
				p.nodes = append(p.nodes, u)
			}
			if _, err := fmt.Sscanf(line, "replica %d: %s", &n, &u); err == nil {
				p.replicas = append(p.replicas, u)
			}
			if v, ok := strings.CutPrefix(line, "Demo user creds:"); ok {
				p.creds = strings.TrimSpace(v)
			}
			if strings.HasPrefix(line, "Press Ctrl-C") {
				p.banner = b.String()
				close(ready)
			}
		}
	}()
	go func() { p.finished <- cmd.Wait() }()
	select {
	case <-ready:
	case err := <-p.finished:
		e.t.Fatalf("signet dev --ha exited early: %v\n%s", err, p.stderrText())
	case <-time.After(60 * time.Second):
		e.t.Fatalf("signet dev --ha printed no banner within 60s\n%s", p.stderrText())
	}
	return p
}

func (p *haProc) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.stderr, "\n")
}

// typeLine sends a command to dev's stdin and waits for the stderr line that says it was done.
func (p *haProc) typeLine(t *testing.T, cmd, want string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, cmd+"\n"); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(30 * time.Second)
	for !strings.Contains(p.stderrText(), want) {
		select {
		case <-p.more:
		case <-deadline:
			t.Fatalf("typed %q, no %q on stderr:\n%s", cmd, want, p.stderrText())
		}
	}
}

// waitRoundTrip polls until a user's message goes round on url (a node learns an account from
// a replica's announcement or a lookup, which takes a moment).
func waitRoundTrip(t *testing.T, url, creds, subject string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := tryRoundTrip(url, creds, subject); err == nil {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("round trip on %s with %s: %v", url, filepath.Base(creds), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tryRoundTrip connects with creds to url and sends a message to itself.
func tryRoundTrip(url, creds, subject string) error {
	nc, err := nats.Connect(url, nats.UserCredentials(creds), nats.MaxReconnects(0), nats.Timeout(2*time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		return err
	}
	if err := nc.Publish(subject, []byte("hi")); err != nil {
		return err
	}
	m, err := sub.NextMsg(2 * time.Second)
	if err == nil && string(m.Data) != "hi" {
		err = fmt.Errorf("got %q", m.Data)
	}
	return err
}

func TestDevHAStopsAndStartsNodesAndReplicasFromStdinAndKeepsServing(t *testing.T) {
	e := &env{t: t, home: t.TempDir()}
	p := e.startDevHA()
	if len(p.nodes) != 3 || len(p.replicas) != 3 || p.creds == "" {
		t.Fatalf("banner lists %d nodes, %d replicas, creds %q:\n%s", len(p.nodes), len(p.replicas), p.creds, p.banner)
	}
	if !strings.HasPrefix(p.banner, "signet dev --ha: a secured NATS cluster is running") || !consoleLine.MatchString(p.banner) {
		t.Errorf("the banner does not start with the cluster line or lacks the web console:\n%s", p.banner)
	}
	if !strings.Contains(p.banner, "type n1, n2 or n3") {
		t.Fatalf("with stdin a pipe, the banner does not say how to stop a node:\n%s", p.banner)
	}
	oc := operatorJWT(t, e.home)
	if oc.AccountServerURL != p.replicas[0] || strings.Join(oc.OperatorServiceURLs, " ") != strings.Join(p.nodes, " ") {
		t.Fatalf("operator URLs %s %v, want replica 1 and the nodes", oc.AccountServerURL, oc.OperatorServiceURLs)
	}
	waitRoundTrip(t, p.nodes[1], p.creds, "hello")

	// An account added while everything runs is pushed to replica 1 and works on every node.
	e.run("add", "account", "B")
	e.run("add", "user", "bob", "-a", "B")
	bob := filepath.Join(e.home, "data", "nats", "nsc", "keys", "creds", "dev", "B", "bob.creds")
	waitRoundTrip(t, p.nodes[2], bob, "b")

	// Stop replica 1 and node 1: users connect to the others, pushes go to replica 2, and
	// replica 3 serves what replica 2 took.
	p.typeLine(t, "r1", "[ OK ] stopped replica 1")
	p.typeLine(t, "n1", "[ OK ] stopped node 1")
	if _, err := http.Get(p.replicas[0] + "/accounts/"); err == nil {
		t.Fatal("replica 1 still answers after r1")
	}
	if err := tryRoundTrip(p.nodes[0], p.creds, "x"); err == nil {
		t.Fatal("node 1 still lets users in after n1")
	}
	waitRoundTrip(t, p.nodes[2], p.creds, "hello.again")
	e.run("add", "account", "C")
	e.run("add", "user", "carol", "-a", "C")
	e.run("push", "-a", "C", "-u", p.replicas[1])
	carol := filepath.Join(e.home, "data", "nats", "nsc", "keys", "creds", "dev", "C", "carol.creds")
	waitRoundTrip(t, p.nodes[1], carol, "c")
	waitRoundTrip(t, p.nodes[2], bob, "b.again")
	// Replica 3 serves C, which went to replica 2 only.
	cJWT, err := os.ReadFile(filepath.Join(e.home, "data", "nats", "nsc", "stores", "dev", "accounts", "C", "C.jwt"))
	if err != nil {
		t.Fatal(err)
	}
	ac, err := jwt.DecodeAccountClaims(string(cJWT))
	if err != nil {
		t.Fatal(err)
	}
	// Replica 3 learns it through its watch of the bucket, which may be starting again after
	// node 1 stopped (its consumer can go with the node): give it the time that takes.
	status := 0
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(p.replicas[2] + "/accounts/" + ac.Subject)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
		if status == http.StatusOK && strings.TrimSpace(string(body)) == strings.TrimSpace(string(cJWT)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica 3 does not serve account C pushed to replica 2: HTTP %d", status)
		}
	}

	// Both come back; node 1 lets C's users in.
	p.typeLine(t, "n1", "[ OK ] started node 1")
	p.typeLine(t, "r1", "[ OK ] started replica 1")
	waitRoundTrip(t, p.nodes[0], carol, "c.node1")
	p.typeLine(t, "n7", "numbered 1 to 3")

	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-p.finished:
		if err != nil {
			t.Fatalf("signet dev --ha did not stop cleanly: %v\n%s", err, p.stderrText())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("signet dev --ha did not stop within 30s of Ctrl-C")
	}
}
