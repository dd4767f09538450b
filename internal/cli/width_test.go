package cli_test

import (
	"strings"
	"testing"

	"github.com/jedib0t/go-pretty/v6/text"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

func widestLine(out string) int {
	w := 0
	for _, l := range strings.Split(out, "\n") {
		w = max(w, text.StringWidthWithoutEscSequences(l))
	}
	return w
}

// On an 80-column terminal the tables of describe and list fit in 80 columns, and a key stays
// whole on one line where the table leaves room for it; piped, they keep their full width.
func TestTablesFitAnEightyColumnTerminalAndNotAPipe(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "O")
	e.MustRun("edit", "account", "O", "--sk", "generate")
	sub := strings.TrimSpace(e.MustRun("describe", "account", "O", "--field", "sub"))
	sub = strings.Trim(sub, `"`)
	piped := e.MustRun("describe", "account", "O")
	if widestLine(piped) <= 80 {
		t.Fatalf("describe account is already narrow (%d):\n%s", widestLine(piped), piped)
	}
	e.Width = 80
	for _, args := range [][]string{
		{"describe", "account", "O"},
		{"describe", "operator"},
		{"describe", "user", "O", "-a", "O"},
		{"list", "keys", "--all"},
		{"list", "accounts"},
		{"expirations"},
	} {
		out := e.MustRun(args...)
		if w := widestLine(out); w > 80 {
			t.Errorf("%v: %d columns wide on an 80-column terminal:\n%s", args, w, out)
		}
	}
	if out := e.MustRun("describe", "account", "O"); !strings.Contains(out, sub) {
		t.Errorf("the account key %s is not whole on one line:\n%s", sub, out)
	}
	e.Width = 0
	if again := e.MustRun("describe", "account", "O"); again != piped {
		t.Errorf("piped output changed:\n%s\nwant:\n%s", again, piped)
	}
}
