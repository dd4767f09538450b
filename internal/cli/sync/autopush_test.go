package sync_test

import (
	"net"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// A local operator's edits stay local, as with nsc, even when the operator names an account
// server: nothing is pushed and nothing is printed about it, so scripts that read a command's
// output see only nsc's lines. `edit operator --auto-push` opts in.
func TestLocalOperatorPushesOnlyWhenAutoPushIsOn(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/jwt/v1"
	l.Close() // nothing listens there any more: a push would be reported as unreachable
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O")
	e.MustRun("edit", "operator", "--account-jwt-server-url", closed)
	r := e.Run("add", "account", "customer-1")
	if r.Error != nil {
		t.Fatalf("add account: %v", r.Error)
	}
	if strings.Contains(r.Out+r.Err, "push") || strings.Contains(r.Out+r.Err, "WARN") {
		t.Errorf("add account on a local operator tried to push:\nstdout: %s\nstderr: %s", r.Out, r.Err)
	}
	out := e.MustRunStatus("edit", "operator", "--auto-push")
	if !strings.Contains(out, "automatic push") {
		t.Errorf("edit operator --auto-push did not say what it set: %s", out)
	}
	r = e.Run("edit", "account", "customer-1", "--conns", "5")
	if r.Error != nil {
		t.Fatalf("edit account: %v", r.Error)
	}
	if !strings.Contains(r.Err, "not pushed") || strings.Contains(r.Out, "not pushed") {
		t.Errorf("with --auto-push the push was not tried, or its warning is not on stderr:\nstdout: %s\nstderr: %s", r.Out, r.Err)
	}
	e.MustRun("edit", "operator", "--auto-push=false")
	if r = e.Run("edit", "account", "customer-1", "--conns", "6"); r.Error != nil || strings.Contains(r.Err, "not pushed") {
		t.Errorf("--auto-push=false still pushes: %v\n%s", r.Error, r.Err)
	}
}
