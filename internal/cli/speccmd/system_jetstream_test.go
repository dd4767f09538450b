package speccmd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// TestPlanRefusesJetStreamOnTheSystemAccount: a file that gives the system account (the
// operator's, or the one the file names) JetStream is refused by plan and apply, changing
// nothing: nats-server refuses to enable JetStream there, and nsc to set it.
func TestPlanRefusesJetStreamOnTheSystemAccount(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys")
	e.MustRun("add", "account", "A")
	e.MustRun("list", "users", "-a", "SYS") // the user list journal, which a listing writes
	e.MustRun("list", "users", "-a", "A")
	for name, text := range map[string]string{
		"operator's": "accounts:\n  SYS:\n    jetstream:\n      mem_storage: 1G\n",
		"file's":     "system_account: A\naccounts:\n  A:\n    jetstream:\n      tiers:\n        R1: {disk_storage: -1}\n",
	} {
		file := filepath.Join(e.Home, "sys.yaml")
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		before := clitest.Snapshot(t, e.StoresDir(), e.KeysDir())
		for _, cmd := range [][]string{{"plan", "-f", file}, {"apply", "-f", file}} {
			r := e.Run(cmd...)
			if exitCode(r.Error) != 1 || !strings.Contains(r.Error.Error(), "is the system account, where nats-server refuses to enable JetStream") {
				t.Errorf("%s system account: signet %s: exit %d, error %v", name, cmd[0], exitCode(r.Error), r.Error)
			}
		}
		sameFiles(t, name, before, clitest.Snapshot(t, e.StoresDir(), e.KeysDir()))
	}
}

// TestPlanReadsJetStreamWithoutStorageAsNone: edit account writes nsc's JetStream counts
// (-1, no storage); JetStream is off, so a file without jetstream plans no change for it.
func TestPlanReadsJetStreamWithoutStorageAsNone(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys")
	e.MustRun("add", "account", "A")
	e.MustRun("edit", "account", "A", "--conns", "5")
	if ac := account(t, openStore(t, e, "O"), "A"); ac.Limits.Streams != -1 {
		t.Fatalf("edit account wrote no JetStream counts: %+v", ac.Limits.JetStreamLimits)
	}
	exported := e.MustRun("export-spec")
	if strings.Contains(exported, "jetstream") {
		t.Errorf("exported spec has JetStream for an account without storage:\n%s", exported)
	}
	file := filepath.Join(e.Home, "a.yaml")
	if err := os.WriteFile(file, []byte("accounts:\n  A:\n    limits:\n      conns: 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := e.MustRun("plan", "-f", file); strings.Contains(out, "jetstream") {
		t.Errorf("plan shows a JetStream change:\n%s", out)
	}
}
