package drift_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/accountserver"
	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/cli/cmdutil"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/jwtstore"
	"github.com/signet-dev/signet/store"
)

func exitCode(t *testing.T, r clitest.Result) int {
	t.Helper()
	if r.Error == nil {
		return 0
	}
	var exit *cmdutil.ExitError
	if errors.As(r.Error, &exit) {
		return exit.Code
	}
	t.Logf("error: %v\nstderr: %s", r.Error, r.Err)
	return 1
}

// TestDriftExitCodes: a store pushed to two full resolvers and a signet serve is clean (exit
// 0, asked through the operator's own URLs); after an edit that is not pushed, every source
// holds an older JWT (exit 2, listed per source, in JSON too); a source that cannot be read
// makes the check fail (exit 1).
func TestDriftExitCodes(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.Vars["SIGNET_NO_PUSH"] = "1"
	e.MustRun("init", "-n", "O")
	e.MustRun("edit", "operator", "--rm-service-url", "nats://localhost:4222") // init's: the test names its own server
	e.MustRun("add", "account", "A")
	s, err := (store.Stores{Dir: e.StoresDir()}).Open("O")
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := natstest.FromStore(t, s)
	servers := natstest.StartCluster(t, 2, tr)
	as, err := accountserver.New(accountserver.Config{OperatorJWT: tr.OperatorJWT, HTTP: accountserver.HTTPConfig{Port: -1}, Backend: jwtstore.NewMemory()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := as.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = as.Shutdown(ctx)
	})
	asURL := strings.TrimSuffix(as.ResolverURL(), "/accounts/")
	e.MustRun("edit", "operator", "--account-jwt-server-url", asURL, "--service-url", servers[0].ClientURL())
	e.MustRun("push", "-A", "-u", servers[0].ClientURL())
	e.MustRun("push", "-A")

	r := e.Run("drift")
	if code := exitCode(t, r); code != 0 {
		t.Fatalf("drift on a pushed store: exit %d\n%s%s", code, r.Out, r.Err)
	}
	if !strings.Contains(r.Err, "no drift: 3 accounts in sync at 3 sources") {
		t.Errorf("clean drift says: %q", r.Err)
	}

	e.MustRun("edit", "account", "A", "--conns", "5")
	r = e.Run("drift")
	if code := exitCode(t, r); code != 2 {
		t.Fatalf("drift after an unpushed edit: exit %d, want 2\n%s%s", code, r.Out, r.Err)
	}
	for _, src := range []string{"S0", "S1", asURL} {
		if !strings.Contains(r.Out, src) {
			t.Errorf("drift table does not name source %s:\n%s", src, r.Out)
		}
	}
	if strings.Count(r.Out, "older") != 3 {
		t.Errorf("drift table should list A as older at 3 sources:\n%s", r.Out)
	}

	r = e.Run("drift", "--json", "--servers", servers[1].ClientURL())
	if code := exitCode(t, r); code != 2 {
		t.Fatalf("drift --json: exit %d, want 2\n%s", code, r.Err)
	}
	var rep struct {
		Clean   bool `json:"clean"`
		Entries []struct {
			Name   string `json:"name"`
			Source string `json:"source"`
			Status string `json:"status"`
		} `json:"entries"`
	}
	if err := json.Unmarshal([]byte(r.Out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.Out)
	}
	older := 0
	for _, en := range rep.Entries {
		if en.Name == "A" && en.Status == "older" {
			older++
		}
		if en.Source == asURL {
			t.Errorf("--servers alone asked the account server too: %+v", en)
		}
	}
	if rep.Clean || older != 2 || len(rep.Entries) != 6 {
		t.Errorf("--json: clean %v, A older at %d servers, %d entries; want false, 2, 6:\n%s", rep.Clean, older, len(rep.Entries), r.Out)
	}

	r = e.Run("drift", "--account-server", "http://127.0.0.1:1/jwt/v1")
	if code := exitCode(t, r); code != 1 || !strings.Contains(r.Err, "could not be read") {
		t.Errorf("unreachable account server: exit %d, want 1; stderr %q", code, r.Err)
	}
}
