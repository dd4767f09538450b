package exports_test

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli/clitest"
)

// TestPrivateExportWithTokenPositionIsRefusedAsNscDoes: nsc's add export refuses
// --account-token-position on a --private export (nats-server checks the position and never
// reads an activation for it), and so does signet, changing nothing; edit export that gives
// the position to a private export is refused the same way.
func TestPrivateExportWithTokenPositionIsRefusedAsNscDoes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "export", "-a", "A", "-s", "priv.*", "--service", "--private")
	e.MustRun("add", "export", "-a", "A", "-s", "pos.*", "--service", "--account-token-position", "2")
	before := clitest.Snapshot(t, e.StoresDir(), e.KeysDir())
	for _, args := range [][]string{
		{"add", "export", "-a", "A", "-s", "bad.*", "--service", "--private", "--account-token-position", "2"},
		{"add", "export", "-a", "A", "-s", "bad.*", "--private", "--account-token-position", "2"},
		{"edit", "export", "-a", "A", "-s", "priv.*", "--account-token-position", "2"},
		// made private after the position was given: any account could still import its own
		// subject without an activation (the server checks the position first).
		{"edit", "export", "-a", "A", "-s", "pos.*", "--private"},
	} {
		if msg := e.MustFail(args...); !strings.Contains(msg, "only valid for public exports") {
			t.Errorf("%v: %s", args, msg)
		}
	}
	if after := clitest.Snapshot(t, e.StoresDir(), e.KeysDir()); !maps.Equal(before, after) {
		t.Error("a refused export changed the store")
	}
	e.MustRun("add", "export", "-a", "A", "-s", "pub.*", "--service", "--account-token-position", "2")
}

// TestActivationForAPublicExportIsRefusedAsNscDoes: an activation is for a private export; nsc
// refuses one for a public export (exit 1), and so does signet, with the fix, printing no token.
// Where a public stream and a private service both cover the subject, the private one is meant.
func TestActivationForAPublicExportIsRefusedAsNscDoes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "export", "-a", "A", "-s", "s1")
	r := e.Run("generate", "activation", "-a", "A", "-s", "s1", "-t", "B")
	if r.Error == nil || r.Out != "" || !strings.Contains(r.Error.Error(), "is public") || !strings.Contains(r.Error.Error(), "--private") {
		t.Errorf("activation of a public export: %v, stdout %q", r.Error, r.Out)
	}
	e.MustRun("add", "export", "-a", "A", "-s", "s1", "--service", "--private")
	out := e.MustRun("generate", "activation", "-a", "A", "-s", "s1", "-t", "B")
	if !strings.Contains(out, "ACTIVATION JWT") {
		t.Errorf("activation of the private service beside a public stream: %q", out)
	}
}

// TestServiceImportFromTokenSetsTheLocalSubjectAsNscDoes: add import --token without
// --local-subject gives a service import the subject as its local subject, as nsc writes it; a
// stream import keeps none, as in nsc.
func TestServiceImportFromTokenSetsTheLocalSubjectAsNscDoes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "export", "-a", "A", "-s", "svc", "--service", "--private")
	e.MustRun("add", "export", "-a", "A", "-s", "st", "--private")
	dir := t.TempDir()
	for _, sub := range []string{"svc", "st"} {
		tok := filepath.Join(dir, sub+".jwt")
		e.MustRun("generate", "activation", "-a", "A", "-s", sub, "-t", "B", "-o", tok)
		if _, err := os.Stat(tok); err != nil {
			t.Fatal(err)
		}
		e.MustRun("add", "import", "-a", "B", "--token", tok)
	}
	got := map[string]string{}
	for _, im := range account(t, e, "B").Imports {
		got[string(im.Subject)] = string(im.LocalSubject)
	}
	if got["svc"] != "svc" || got["st"] != "" {
		t.Errorf("local subjects: %q, want svc -> svc and st -> none", got)
	}
}
