package tool_test

import (
	"net"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// TestToolToAStoppedDevSuggestsSignetDev: the operator's service URL is where signet dev
// listened; with dev stopped, tool says nothing listens there and to start signet dev.
func TestToolToAStoppedDevSuggestsSignetDev(t *testing.T) {
	t.Parallel()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "nats://" + closed.Addr().String()
	closed.Close()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	e.MustRun("edit", "operator", "--rm-service-url", "nats://localhost:4222") // init's: the test names its own server
	e.MustRun("edit", "operator", "-n", deadURL)
	msg := e.MustFail("tool", "pub", "a", "b")
	if !strings.Contains(msg, "nothing is listening at "+deadURL+": start `signet dev`") || !strings.Contains(msg, "--nats") {
		t.Fatalf("tool pub to a stopped dev: %s", msg)
	}
}
