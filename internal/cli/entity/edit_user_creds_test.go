package entity_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// TestEditUserSaysWhenItsCredsFileCouldNotBeRewritten: the edit is saved, but a creds file that
// cannot be rewritten is an error that says the file still holds the previous JWT and how to
// write it again; once the path is writable, that command writes creds with the edited JWT.
func TestEditUserSaysWhenItsCredsFileCouldNotBeRewritten(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	e.MustRun("add", "account", "-n", "A")
	e.MustRun("add", "user", "-a", "A", "-n", "u")
	creds := filepath.Join(e.KeysDir(), "creds", "O", "A", "u.creds")
	// A folder where the creds file goes: its rename fails, for root too.
	if err := os.Remove(creds); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(creds, "in-the-way"), 0o700); err != nil {
		t.Fatal(err)
	}
	r := e.Run("edit", "user", "-a", "A", "-n", "u", "--allow-pub", "edited.>")
	if r.Error == nil {
		t.Fatalf("edit user with an unwritable creds file succeeded:\n%s%s", r.Out, r.Err)
	}
	msg := r.Error.Error()
	if !strings.Contains(msg, "still holds the previous JWT") || !strings.Contains(msg, "signet generate creds -a A -n u") ||
		!strings.Contains(msg, creds) {
		t.Errorf("error does not say what happened and what to do: %v", r.Error)
	}
	desc := e.MustRun("describe", "user", "-a", "A", "-n", "u", "--json")
	if !strings.Contains(desc, "edited.>") {
		t.Errorf("the edit was not saved:\n%s", desc)
	}
	if err := os.RemoveAll(creds); err != nil {
		t.Fatal(err)
	}
	e.MustRun("generate", "creds", "-a", "A", "-n", "u", "-o", creds)
	data, err := os.ReadFile(creds)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "BEGIN NATS USER JWT") {
		t.Errorf("creds written again: %s", data)
	}
}
