package inspect_test

import (
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

// With no operator, `list operators` prints no empty table: it says, on stderr, how to make one.
func TestListOperatorsWithNoneSaysHowToMakeOne(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	r := e.Run("list", "operators")
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	if r.Out != "" {
		t.Errorf("stdout: %q, want nothing", r.Out)
	}
	for _, want := range []string{"no operators in " + e.StoresDir(), "`signet init -n NAME`", "`signet dev`"} {
		if !strings.Contains(r.Err, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.Err)
		}
	}
	// JSON stays data: an empty list, and no hint.
	r = e.Run("list", "operators", "--json")
	if r.Error != nil || strings.TrimSpace(r.Out) != "[]" || r.Err != "" {
		t.Errorf("list operators --json: %v %q %q", r.Error, r.Out, r.Err)
	}
	// Once there is one, the table.
	e.MustRun("init", "O")
	if out := e.MustRun("list", "operators"); !strings.Contains(out, "Operators") || !strings.Contains(out, "O") {
		t.Errorf("list operators:\n%s", out)
	}
}
