package entity_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/store"
)

// badSeed looks like an account seed but fails its checksum; it must never be echoed back.
const badSeed = "SAAJQ2K7PRNKHUUEEMFLEQ3GF3RMHHLZZ2SLT7RKPWMIHCY5ICOYYLZXBA"

func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	before := clitest.Snapshot(t, e.Home)
	for _, args := range [][]string{
		{"add", "user", "u1", "--deny-pub", "foo..bar"},
		{"add", "user", "u1", "--expiry", "yesterday-ish"},
		{"add", "user", "u1", "--payload", "12XB"},
		{"add", "user", "../evil"},
		{"add", "user", "O"}, // exists
		{"add", "account", "A", "--conns", "lots"},
		{"add", "account", "A", "--sk", badSeed},
		{"add", "account", ".hidden"},
		{"edit", "operator", "--service-url", "http://not-nats"},
		{"edit", "operator", "--system-account", "NOPE"},
		{"edit", "user", "O", "-a", "O", "--source-network", "300.1.1.1/8"},
		{"edit", "user", "nosuch", "-a", "O", "--allow-pub", "x"},
		{"delete", "user", "nosuch", "-a", "O"},
		{"add", "user", "u2", "-a", "nosuch"},
	} {
		r := e.Run(args...)
		if r.Error == nil {
			t.Errorf("signet %s: expected an error", strings.Join(args, " "))
			continue
		}
		if strings.Contains(r.Error.Error(), "goroutine") || strings.Contains(r.Error.Error()+r.Out+r.Err, badSeed) {
			t.Errorf("signet %s: error leaks internals or the seed: %v", strings.Join(args, " "), r.Error)
		}
		if after := clitest.Snapshot(t, e.Home); !maps.Equal(before, after) {
			t.Fatalf("signet %s failed (%v) but changed files on disk", strings.Join(args, " "), r.Error)
		}
	}
}

func TestScopedUserEdit(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	e.MustRun("edit", "signing-key", "-a", "O", "--sk", "generate", "--role", "svc", "--allow-sub", "q.>")
	e.MustRun("add", "user", "s", "-a", "O", "-K", "svc")
	msg := e.MustFail("add", "user", "s2", "-a", "O", "-K", "svc", "--allow-pub", "x")
	if !strings.Contains(msg, "scoped") {
		t.Fatalf("permission flags with a scoped key: %s", msg)
	}
	msg = e.MustFail("edit", "user", "s", "-a", "O", "--allow-pub", "x")
	if !strings.Contains(msg, "scoped") {
		t.Fatalf("editing a scoped user's permissions: %s", msg)
	}
	e.MustRun("edit", "user", "s", "-a", "O", "--tag", "team:a")
	s, err := (store.Stores{Dir: e.StoresDir()}).Open("O")
	if err != nil {
		t.Fatal(err)
	}
	uc, _, err := s.User("O", "s")
	if err != nil {
		t.Fatal(err)
	}
	if !uc.HasEmptyPermissions() || len(uc.Tags) != 1 || uc.IssuerAccount == "" {
		t.Fatalf("edited scoped user lost its scope: tags=%v issuer_account=%q", uc.Tags, uc.IssuerAccount)
	}
}

func TestLookupByPublicKey(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	e.MustRun("add", "account", "B")
	s, err := (store.Stores{Dir: e.StoresDir()}).Open("O")
	if err != nil {
		t.Fatal(err)
	}
	ac, _, _ := s.Account("B")
	e.MustRun("add", "user", "u", "-a", ac.Subject)
	uc, _, _ := s.User("B", "u")
	e.MustRun("edit", "user", uc.Subject, "-a", "B", "--deny-pub", "x")
	edited, _, err := s.User("B", "u")
	if err != nil {
		t.Fatalf("user u after the edit by public key: %v", err)
	}
	if edited.Subject != uc.Subject || len(edited.Permissions.Pub.Deny) != 1 || edited.Permissions.Pub.Deny[0] != "x" {
		t.Fatalf("edit by public key did not edit user u: subject %s deny pub %v", edited.Subject, edited.Permissions.Pub.Deny)
	}
	if names, err := s.UserNames("B"); err != nil || len(names) != 1 {
		t.Fatalf("users of B after the edit by public key: %v %v", names, err)
	}
	if out := e.MustRunStatus("delete", "user", uc.Subject, "-a", ac.Subject, "--revoke=false"); !strings.Contains(out, `deleted user "u"`) {
		t.Fatalf("delete by public key: %s", out)
	}
}

func TestUserLimitsAreKept(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	e.MustRun("add", "user", "u", "-a", "O", "--source-network", "10.0.0.0/8", "--payload", "1K", "--subs", "5")
	s, err := (store.Stores{Dir: e.StoresDir()}).Open("O")
	if err != nil {
		t.Fatal(err)
	}
	uc, _, err := s.User("O", "u")
	if err != nil {
		t.Fatal(err)
	}
	if len(uc.Src) != 1 || uc.Limits.Payload != 1000 || uc.Limits.Subs != 5 {
		t.Fatalf("user limits lost: src=%v payload=%d subs=%d", uc.Src, uc.Limits.Payload, uc.Limits.Subs)
	}
	e.MustRun("add", "user", "plain", "-a", "O")
	pc, _, _ := s.User("O", "plain")
	if pc.Limits.Subs != -1 || pc.Limits.Payload != -1 || pc.Limits.Data != -1 {
		t.Fatalf("a plain user is not unlimited: %+v", pc.Limits.NatsLimits)
	}
}
