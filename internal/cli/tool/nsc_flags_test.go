package tool_test

import (
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

func TestSubAndReqRefuseNscEncrypt(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	for _, args := range [][]string{{"tool", "sub", "x", "-E"}, {"tool", "req", "x", "--encrypt"}, {"sub", "x", "-E"}, {"req", "x", "y", "-E"}} {
		r := e.Run(args...)
		if r.Error == nil || !strings.Contains(r.Err, "[WARN] nsc's --encrypt is not supported by signet") {
			t.Errorf("%v: %v, stderr %q", args, r.Error, r.Err)
		}
	}
}

func TestToolCommandsTakeNscAccountAndUserFlags(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "account", "B") // B becomes the current account: -a O must win
	url := e.ns.ClientURL()
	if out := e.MustRun("tool", "rtt", "-a", "O", "-u", "O", "--nats", url); !strings.Contains(out, "round trip time") {
		t.Errorf("tool rtt -a -u: %s", out)
	}
	if out := e.MustRunStatus("tool", "pub", "--account", "O", "--user", "O", "x", "y"); !strings.Contains(out, "Published [x]") {
		t.Errorf("tool pub --account --user: %s", out)
	}
	if msg := e.MustFail("tool", "req", "-a", "O", "-u", "O", "nobody.here", "ping", "--timeout", "2s"); !strings.Contains(msg, "nobody is listening") {
		t.Errorf("tool req -a -u with no responder: %s", msg)
	}
}
