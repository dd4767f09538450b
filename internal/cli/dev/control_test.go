package dev

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli/cmdutil"
)

func TestControllableOnlyForAPipeOrAForegroundTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if !controllable(r) {
		t.Error("a pipe is not controllable")
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if controllable(null) {
		t.Error("/dev/null is controllable: dev would stop reading at once, and say it listens")
	}
	file := filepath.Join(t.TempDir(), "cmds")
	if err := os.WriteFile(file, []byte("n1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if controllable(f) || controllable(strings.NewReader("n1\n")) {
		t.Error("a file or a reader is controllable")
	}
}

// fakeHA records what control asked for.
type fakeHA struct {
	nodes, replicas [3]bool
	calls           []string
}

func (f *fakeHA) set(kind string, p *[3]bool, i int, up bool) error {
	f.calls = append(f.calls, fmt.Sprintf("%s%d=%v", kind, i+1, up))
	p[i] = up
	return nil
}
func (f *fakeHA) StopNode(i int) error      { return f.set("n", &f.nodes, i, false) }
func (f *fakeHA) StartNode(i int) error     { return f.set("n", &f.nodes, i, true) }
func (f *fakeHA) StopReplica(i int) error   { return f.set("r", &f.replicas, i, false) }
func (f *fakeHA) StartReplica(i int) error  { return f.set("r", &f.replicas, i, true) }
func (f *fakeHA) NodeRunning(i int) bool    { return f.nodes[i] }
func (f *fakeHA) ReplicaRunning(i int) bool { return f.replicas[i] }
func (f *fakeHA) ClientURLs() []string      { return []string{"nats://a", "nats://b", "nats://c"} }
func (f *fakeHA) AccountServerURLs() []string {
	return []string{"http://a/jwt/v1", "http://b/jwt/v1", "http://c/jwt/v1"}
}

func TestControlTogglesTheNamedNodeOrReplicaAndRefusesOthers(t *testing.T) {
	h := &fakeHA{nodes: [3]bool{true, true, true}, replicas: [3]bool{true, true, true}}
	var out, errOut bytes.Buffer
	in := strings.NewReader("n2\nR3\n n2 \nr0\nn4\nkill\n\ns\n")
	control(context.Background(), in, &cmdutil.IOStreams{Out: &out, ErrOut: &errOut}, h)
	if got := strings.Join(h.calls, " "); got != "n2=false r3=false n2=true" {
		t.Errorf("calls %q", got)
	}
	for _, want := range []string{
		"[ OK ] stopped node 2 (nats://b)", "[ OK ] stopped replica 3 (http://c/jwt/v1)", "[ OK ] started node 2 (nats://b)",
		`[WARN] "r0": nodes and replicas are numbered 1 to 3`, `[WARN] "n4": nodes and replicas are numbered 1 to 3`, `[WARN] unknown command "kill"`,
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	if !strings.Contains(out.String(), "replica 3  stopped  http://c/jwt/v1") || !strings.Contains(out.String(), "node 2     running  nats://b") {
		t.Errorf("status:\n%s", out.String())
	}
}
