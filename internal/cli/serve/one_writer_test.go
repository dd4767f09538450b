package serve_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/accountserver"
	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/serve"
	"github.com/signet-dev/signet/internal/natstest"
)

// TestSecondServeOfOneFolderIsRefused: while a signet serve writes a store folder, a second
// writable signet serve of that folder stops before serving, with an error that names the folder
// and the way out (read-only); the first goes on serving; a read-only serve of the folder runs
// beside it.
func TestSecondServeOfOneFolderIsRefused(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	dir := t.TempDir()

	var errOut natstest.SyncBuffer
	f := cmdutil.NewFactory(strings.NewReader(""), io.Discard, &errOut, false)
	f.Getenv = func(k string) string { return e.Vars[k] }
	f.Getwd = func() (string, error) { return e.Wd, nil }
	start := func(readOnly bool) (*accountserver.Server, context.CancelFunc) {
		ready := make(chan *accountserver.Server, 1)
		o := &serve.Options{Operator: "O", HTTP: "127.0.0.1:0", Dir: dir, ReadOnly: readOnly,
			Started: func(s *accountserver.Server) { ready <- s }}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- serve.Run(ctx, f, o) }()
		t.Cleanup(func() {
			cancel()
			<-done
		})
		select {
		case s := <-ready:
			return s, cancel
		case err := <-done:
			t.Fatalf("serve (read-only %v) ended: %v\n%s", readOnly, err, errOut.String())
		case <-time.After(10 * time.Second):
			t.Fatal("serve did not start")
		}
		return nil, nil
	}
	first, _ := start(false)

	r := e.Run("serve", "--operator", "O", "--http", "127.0.0.1:0", "--dir", dir)
	if r.Error == nil || !strings.Contains(r.Error.Error(), dir) || !strings.Contains(r.Error.Error(), "another process writes") ||
		!strings.Contains(r.Error.Error(), "read-only") {
		t.Fatalf("second writable serve of %s: %v\n%s", dir, r.Error, r.Err)
	}
	if strings.Contains(r.Err, "account server is running") {
		t.Errorf("second serve started serving:\n%s", r.Err)
	}

	reader, _ := start(true)
	for _, s := range []*accountserver.Server{first, reader} {
		resp, err := http.Get("http://" + s.HTTPAddr() + "/jwt/v1/operator")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: operator JWT: %d", s.HTTPAddr(), resp.StatusCode)
		}
	}
}
