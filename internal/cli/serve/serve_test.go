package serve_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signet-dev/signet/accountserver"
	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/cli/serve"
	"github.com/signet-dev/signet/internal/natstest"
)

// TestServeOperatorFromStore runs signet serve for an operator of the signet store, serves its
// system account, and stops cleanly when the context ends (what SIGINT/SIGTERM do).
func TestServeOperatorFromStore(t *testing.T) {
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")

	var errOut natstest.SyncBuffer
	f := cmdutil.NewFactory(strings.NewReader(""), io.Discard, &errOut, false)
	f.Getenv = func(k string) string { return e.Vars[k] }
	f.Getwd = func() (string, error) { return e.Wd, nil }

	ready := make(chan *accountserver.Server, 1)
	o := &serve.Options{Operator: "O", HTTP: "127.0.0.1:0", Dir: t.TempDir(), Started: func(s *accountserver.Server) { ready <- s }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve.Run(ctx, f, o) }()
	var s *accountserver.Server
	select {
	case s = <-ready:
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, errOut.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	if !strings.Contains(errOut.String(), "resolver: URL("+s.ResolverURL()+")") {
		t.Errorf("log lacks the resolver line:\n%s", errOut.String())
	}
	resp, err := http.Get("http://" + s.HTTPAddr() + "/jwt/v1/operator?decode=true")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"name": "O"`) {
		t.Fatalf("operator: %d %s", resp.StatusCode, body)
	}
	// The operator's system account is served from the store (nats-server's URL resolver asks
	// for it at start).
	st, err := f.Operator("O")
	if err != nil {
		t.Fatal(err)
	}
	oc, _, err := st.Operator()
	if err != nil || oc.SystemAccount == "" {
		t.Fatalf("operator O has no system account: %v", err)
	}
	resp, err = http.Get(s.ResolverURL() + oc.SystemAccount)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("system account: %d", resp.StatusCode)
	}
	// SIGHUP reloads.
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(errOut.String(), "configuration reloaded") {
		select {
		case <-deadline:
			t.Fatalf("no reload after SIGHUP:\n%s", errOut.String())
		case <-tick.C:
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestServeWithoutOperatorServesTheCurrentOne(t *testing.T) {
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	e.MustRun("add", "operator", "P", "--sys") // selected: the current operator

	f := cmdutil.NewFactory(strings.NewReader(""), io.Discard, io.Discard, false)
	f.Getenv = func(k string) string { return e.Vars[k] }
	f.Getwd = func() (string, error) { return e.Wd, nil }
	cfg, err := serve.Config(f, &serve.Options{HTTP: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(e.StoresDir(), "P", "P.jwt"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(cfg.OperatorJWT) != strings.TrimSpace(string(want)) {
		t.Fatal("signet serve without --operator does not serve the current operator P")
	}
	if !strings.Contains(cfg.SystemAccountJWTPath, filepath.Join("P", "accounts", "SYS")) {
		t.Fatalf("the current operator's system account is not served: %q", cfg.SystemAccountJWTPath)
	}

	// No current operator (two, none selected): the error says how to name one.
	e.Vars["XDG_CONFIG_HOME"] = t.TempDir()
	_, err = serve.Config(f, &serve.Options{HTTP: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "--operator") || !strings.Contains(err.Error(), "signet select operator") {
		t.Fatalf("no current operator: %v", err)
	}
}
