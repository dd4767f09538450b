package entity_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// TestJetStreamOnTheSystemAccountIsRefusedAsNscDoes: nats-server will not enable JetStream on
// the system account, and nsc's edit account refuses every JetStream option there but
// --js-disable; so does signet's, changing nothing, and edit operator refuses to make an
// account with JetStream the system account, as nsc's does.
func TestJetStreamOnTheSystemAccountIsRefusedAsNscDoes(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys")
	e.MustRun("add", "account", "C")
	e.MustRun("edit", "account", "C", "--js-mem-storage", "1G")
	before := clitest.Snapshot(t, e.StoresDir(), e.KeysDir())
	for _, args := range [][]string{
		{"edit", "account", "SYS", "--js-enable", "1"},
		{"edit", "account", "SYS", "--js-enable", "0"},
		{"edit", "account", "SYS", "--js-mem-storage", "1G"},
		{"edit", "account", "SYS", "--js-tier", "3", "--js-disk-storage", "1G"},
		{"edit", "account", "SYS", "--js-streams", "5", "--conns", "3"},
	} {
		if msg := e.MustFail(args...); !strings.Contains(msg, `system account "SYS" cannot have JetStream`) {
			t.Errorf("%v: %s", args, msg)
		}
	}
	if msg := e.MustFail("edit", "operator", "--system-account", "C"); !strings.Contains(msg, "--js-disable") {
		t.Errorf("edit operator --system-account of an account with JetStream: %s", msg)
	}
	if after := clitest.Snapshot(t, e.StoresDir(), e.KeysDir()); !maps.Equal(before, after) {
		t.Error("a refused edit changed the store")
	}
	// What is not JetStream still edits the system account, and --js-disable is accepted.
	e.MustRun("edit", "account", "SYS", "--conns", "7")
	e.MustRun("edit", "account", "SYS", "--js-disable")
	if l := accountClaims(t, openStore(t, e, "O"), "SYS").Limits; l.Conn != 7 || l.JetStreamLimits != (jwt.JetStreamLimits{}) || l.IsJSEnabled() {
		t.Errorf("system account limits: %+v", l)
	}
	e.MustRun("edit", "account", "C", "--js-disable")
	e.MustRun("edit", "operator", "--system-account", "C")
}

// TestEditAccountWritesNscsJetStreamDefaults: nsc's edit account writes the global JetStream
// counts as -1 (no storage, so JetStream stays off) unless it enables, removes or disables
// JetStream, sets a tier, or edits the system account; `describe -F nats.limits.streams` then
// prints -1 in both.
func TestEditAccountWritesNscsJetStreamDefaults(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys")
	nscDefaults := jwt.JetStreamLimits{Streams: -1, Consumer: -1, MaxAckPending: -1, MemoryMaxStreamBytes: -1, DiskMaxStreamBytes: -1}
	for _, c := range []struct {
		edit []string
		want jwt.JetStreamLimits
	}{
		{[]string{"--conns", "5"}, nscDefaults},
		{[]string{"--description", "d"}, nscDefaults},
		{[]string{"--js-enable", "0"}, jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1}},
		{[]string{"--js-enable", "1"}, jwt.JetStreamLimits{}},
		{[]string{"--js-tier", "2", "--js-streams", "3"}, jwt.JetStreamLimits{}},
		{[]string{"--js-disable"}, jwt.JetStreamLimits{}},
		{[]string{"--rm-js-tier", "0"}, jwt.JetStreamLimits{}},
	} {
		name := "A" + strings.Join(c.edit, "")
		name = strings.NewReplacer("-", "", " ", "").Replace(name)
		e.MustRun("add", "account", name)
		e.MustRun(append([]string{"edit", "account", name}, c.edit...)...)
		if got := accountClaims(t, openStore(t, e, "O"), name).Limits.JetStreamLimits; got != c.want {
			t.Errorf("edit account %v: global JetStream %+v, want %+v", c.edit, got, c.want)
		}
	}
	e.MustRun("add", "account", "D")
	e.MustRun("edit", "account", "D", "--conns", "5")
	if out := strings.TrimSpace(e.MustRun("describe", "account", "D", "-F", "nats.limits.streams")); out != "-1" {
		t.Errorf("describe -F nats.limits.streams: %q, want -1", out)
	}
	// Those counts, without storage, are JetStream off: a tier can still be enabled, as in nsc.
	e.MustRun("add", "account", "T")
	e.MustRun("edit", "account", "T", "--conns", "5")
	e.MustRun("edit", "account", "T", "--js-enable", "1")
	if l := accountClaims(t, openStore(t, e, "O"), "T").Limits; !l.IsJSEnabled() || l.JetStreamTieredLimits["R1"].MemoryStorage != -1 {
		t.Errorf("--js-enable 1 after an edit: %+v", l)
	}
	// Global storage is refused beside a tier.
	e.MustRun("add", "account", "G", "--js-mem-storage", "1G")
	if msg := e.MustFail("edit", "account", "G", "--js-enable", "1"); !strings.Contains(msg, "global limit") {
		t.Errorf("--js-enable 1 beside global storage: %s", msg)
	}
	// Set counts are kept; the system account gets none.
	e.MustRun("edit", "account", "D", "--js-streams", "4")
	e.MustRun("edit", "account", "D", "--conns", "6")
	if got := accountClaims(t, openStore(t, e, "O"), "D").Limits.JetStreamLimits; got.Streams != 4 || got.Consumer != -1 {
		t.Errorf("after --js-streams 4 and another edit: %+v", got)
	}
	e.MustRun("edit", "account", "SYS", "--conns", "6")
	if got := accountClaims(t, openStore(t, e, "O"), "SYS").Limits.JetStreamLimits; got != (jwt.JetStreamLimits{}) {
		t.Errorf("system account after an edit: %+v, want no JetStream limits", got)
	}
}
