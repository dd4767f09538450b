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
