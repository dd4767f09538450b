package speccmd_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/spec"
	"github.com/signet-dev/signet/store"
)

// failAfter is a store hook that fails every write after the first n (the write itself has
// happened, as when a process dies right after it): the apply stops there.
type failAfter struct{ n int }

func (h *failAfter) StoreChanged(*store.Store, store.Change) error {
	if h.n--; h.n < 0 {
		return errors.New("stopped here")
	}
	return nil
}

// TestApplyStoppedHalfWayIsFinishedByTheNextApply: an apply that stops half-way (the accounts
// written, no user yet) says to run it again; the next apply finishes, a plan then finds nothing
// to do, and a nats-server serves the result: the importer's user gets answers from the
// exporter's service.
func TestApplyStoppedHalfWayIsFinishedByTheNextApply(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "P", "--sys")
	file := filepath.Join(e.Home, "auth.yaml")
	if err := os.WriteFile(file, []byte(servedSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := spec.ReadFiles(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Stores{Dir: e.StoresDir(), Hook: &failAfter{n: 1}}.Open("P")
	if err != nil {
		t.Fatal(err)
	}
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	unlock, err := s.Lock()
	if err != nil {
		t.Fatal(err)
	}
	p, err := spec.MakePlan(s, loaded, spec.Options{})
	if err != nil {
		unlock()
		t.Fatal(err)
	}
	res, err := spec.Apply(s, ks, p)
	unlock()
	if err == nil || !strings.Contains(err.Error(), "run apply again to finish") {
		t.Fatalf("apply that stopped after one write: %v", err)
	}
	// The exporter A went through; the importer B was written but its hook failed, so the
	// apply stopped there, before any user.
	if res == nil || strings.Join(res.Accounts, ",") != "A" || !s.HasAccount("B") || s.HasUser("A", "svc") || s.HasUser("B", "client") {
		t.Fatalf("apply did not stop after the importer's write: %+v", res)
	}

	e.MustRunStatus("apply", "-f", file)
	if r := e.Run("plan", "-f", file); exitCode(r.Error) != 0 {
		t.Fatalf("plan after the finishing apply: exit %d\n%s", exitCode(r.Error), r.Out)
	}
	full := openStore(t, e, "P")
	tr, preload := natstest.FromStore(t, full)
	srv := natstest.StartMemory(t, tr, preload)
	creds := func(account, user string) nats.Option {
		return nats.UserCredentials(keystore.KeyStore{Dir: e.KeysDir()}.CredsPath("P", account, user))
	}
	svc, err := nats.Connect(srv.ClientURL(), creds("A", "svc"))
	if err != nil {
		t.Fatalf("the exporter's user: %v", err)
	}
	defer svc.Close()
	if _, err := svc.Subscribe("help", func(m *nats.Msg) { _ = m.Respond([]byte("helped")) }); err != nil {
		t.Fatal(err)
	}
	if err := svc.Flush(); err != nil {
		t.Fatal(err)
	}
	client, err := nats.Connect(srv.ClientURL(), creds("B", "client"))
	if err != nil {
		t.Fatalf("the importer's user: %v", err)
	}
	defer client.Close()
	if m, err := client.Request("a.help", nil, 5*time.Second); err != nil || string(m.Data) != "helped" {
		t.Fatalf("request through the import after the finishing apply: %v", err)
	}
}
