package exports_test

import (
	"strings"
	"testing"
)

// TestDeleteMappingThatIsNotThereWarnsAndExitsZero: nsc's delete mapping re-signs the account
// and exits 0 when the mapping (or the destination) is not there, so a cleanup script under
// set -e can run twice; signet does the same, says on stderr that nothing was deleted, and keeps
// the mappings that are there.
func TestDeleteMappingThatIsNotThereWarnsAndExitsZero(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "mapping", "-a", "A", "-f", "m", "-t", "m.one")
	for _, c := range []struct{ args []string }{
		{[]string{"delete", "mapping", "-a", "A", "-f", "zz"}},
		{[]string{"delete", "mapping", "-a", "A", "-f", "m", "-t", "m.zz"}},
		{[]string{"delete", "mapping", "-a", "B", "-f", "m"}},
	} {
		out := e.MustRunStatus(c.args...)
		if !strings.Contains(out, "[WARN]") || !strings.Contains(out, "nothing deleted") {
			t.Errorf("signet %s: no warning that nothing was deleted:\n%s", strings.Join(c.args, " "), out)
		}
	}
	if m := account(t, e, "A").Mappings["m"]; len(m) != 1 || m[0].Subject != "m.one" {
		t.Errorf("the mapping that is there changed: %+v", m)
	}
}
