package entity_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

func TestJSEnableMinusOneIsNscsNoChangeOnAddAndEditAccount(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys")
	// add account accepts it and enables nothing.
	e.MustRun("add", "account", "A", "--js-enable", "-1")
	s := openStore(t, e, "O")
	if ac := accountClaims(t, s, "A"); ac.Limits.IsJSEnabled() {
		t.Fatalf("add account --js-enable -1 enabled JetStream: %+v", ac.Limits.JetStreamLimits)
	}
	// Alone on edit account, it re-signs without a change, as nsc does (no "nothing to edit").
	before := accountClaims(t, s, "A")
	out := e.MustRunStatus("edit", "account", "A", "--js-enable", "-1")
	if !strings.Contains(out, `edited account "A"`) {
		t.Errorf("edit account --js-enable -1: %q", out)
	}
	after := accountClaims(t, s, "A")
	// Only nsc's JetStream defaults of an edit are new (TestEditAccountWritesNscsJetStreamDefaults).
	if !reflect.DeepEqual(after.Limits.AccountLimits, before.Limits.AccountLimits) || !reflect.DeepEqual(after.Limits.NatsLimits, before.Limits.NatsLimits) || after.Limits.IsJSEnabled() {
		t.Errorf("--js-enable -1 changed the limits:\n%+v\n%+v", before.Limits, after.Limits)
	}
	e.MustRun("edit", "account", "A", "--rm-js-tier", "-1")
	// With other flags, -1 leaves JetStream alone and the others apply (nsc refuses the mix).
	e.MustRun("edit", "account", "A", "--js-enable", "-1", "--conns", "5")
	e.MustRun("edit", "account", "A", "--js-enable=-1", "--js-mem-storage", "1M")
	ac := accountClaims(t, s, "A")
	if ac.Limits.Conn != 5 || ac.Limits.MemoryStorage != 1000000 {
		t.Errorf("limits after --js-enable -1 with other flags: %+v", ac.Limits)
	}
	// A real tier still enables JetStream, and other negatives are still refused.
	e.MustRun("edit", "account", "A", "--js-disable")
	e.MustRun("edit", "account", "A", "--js-enable", "0")
	if ac := accountClaims(t, s, "A"); ac.Limits.MemoryStorage != -1 || ac.Limits.DiskStorage != -1 {
		t.Errorf("--js-enable 0: %+v", ac.Limits.JetStreamLimits)
	}
	if msg := e.MustFail("edit", "account", "A", "--js-enable", "-2"); !strings.Contains(msg, "invalid --js-enable -2") {
		t.Errorf("--js-enable -2: %q", msg)
	}
	// Nothing at all is still nothing to edit.
	if msg := e.MustFail("edit", "account", "A"); !strings.Contains(msg, "nothing to edit") {
		t.Errorf("edit account with no flag: %q", msg)
	}
}
