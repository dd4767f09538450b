package inspect_test

import (
	"strings"
	"testing"
)

func TestValidateSaysWhichAccountsItValidated(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // operator O with SYS and O (one user each)
	e.MustRun("add", "account", "B")
	e.MustRun("add", "user", "u", "-a", "B")

	one := e.MustRunStatus("validate", "-a", "B")
	for _, want := range []string{`operator "O", account "B" and its 1 user validated: no warnings`, "2 other accounts not validated", "signet validate -A"} {
		if !strings.Contains(one, want) {
			t.Errorf("validate -a B: %q lacks %q", one, want)
		}
	}
	all := e.MustRunStatus("validate", "-A")
	if want := `operator "O", all its 3 accounts and their 3 users validated: no warnings`; !strings.Contains(all, want) {
		t.Errorf("validate -A: %q lacks %q", all, want)
	}
	for _, out := range []string{one, all} {
		if strings.Contains(out, "(s)") || strings.Contains(out, "1 users") || strings.Contains(out, "1 accounts") {
			t.Errorf("validate prints a count without its proper number: %q", out)
		}
	}
}
