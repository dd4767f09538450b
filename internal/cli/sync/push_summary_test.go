package sync_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/store"
)

// summaryRows reads push's summary table from stdout: name, key and result of each row.
func summaryRows(t *testing.T, out string) [][3]string {
	t.Helper()
	var rows [][3]string
	header := true
	for _, l := range strings.Split(out, "\n") {
		cells := strings.Split(l, "│")
		if len(cells) != 5 {
			continue // borders and the title
		}
		if header {
			header = false
			continue
		}
		rows = append(rows, [3]string{strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2]), strings.TrimSpace(cells[3])})
	}
	return rows
}

// pushSummaryStore makes operator O with accounts that the servers take and one, zz-rogue,
// that they refuse: signed by a key O does not know (an account server checks who signed), and
// mapping 120% of a subject (nats-server validates the claims, and does not check the issuer).
func pushSummaryStore(t *testing.T) (*clitest.Env, *store.Store, string) {
	t.Helper()
	e := clitest.New(t, cli.NewRootCmd)
	e.Vars["SIGNET_NO_PUSH"] = "1"
	e.MustRun("init", "O")
	for _, a := range []string{"beta", "alpha", "zz-rogue"} {
		e.MustRun("add", "account", a)
	}
	s := openOperator(t, e, "O")
	ac, _ := accountClaims(t, s, "zz-rogue")
	ac.Mappings = jwt.Mapping{"in": {{Subject: "a", Weight: 60}, {Subject: "b", Weight: 60}}}
	stranger, _ := nkeys.CreateOperator()
	if err := s.SaveAccount("zz-rogue", encode(t, ac, stranger)); err != nil {
		t.Fatal(err)
	}
	return e, s, ac.Subject
}

// checkSummary: one row per account, the refused one first, the others sorted by name, and the
// refused row names the account key once.
func checkSummary(t *testing.T, transport string, r clitest.Result, rogue string) {
	t.Helper()
	if r.Error == nil {
		t.Fatalf("%s: push -A with a refused account succeeded:\n%s", transport, r.Out)
	}
	rows := summaryRows(t, r.Out)
	var names []string
	for _, row := range rows {
		names = append(names, row[0])
	}
	if want := []string{"zz-rogue", "O", "SYS", "alpha", "beta"}; !slices.Equal(names, want) {
		t.Fatalf("%s: rows %v, want %v (failures first, then by name):\n%s", transport, names, want, r.Out)
	}
	if rows[0][1] != rogue || !strings.HasPrefix(rows[0][2], "failed: ") {
		t.Errorf("%s: first row %q, want zz-rogue %s failed", transport, rows[0], rogue)
	}
	for _, l := range strings.Split(r.Out+r.Err, "\n") {
		if n := strings.Count(l, rogue); n > 1 {
			t.Errorf("%s: the key appears %d times in one line: %s", transport, n, l)
		}
	}
	for _, row := range rows[1:] {
		if !strings.HasPrefix(row[2], "pushed") {
			t.Errorf("%s: %s: %q", transport, row[0], row[2])
		}
	}
	if !strings.Contains(r.Out, "5 accounts, 1 failed") || strings.Contains(r.Out, "[ OK ]") || strings.Contains(r.Out, "[ERR") {
		t.Errorf("%s: summary title or status lines on stdout:\n%s", transport, r.Out)
	}
}

func TestPushSummaryOverHTTPListsFailuresFirstSortedAndTheKeyOnce(t *testing.T) {
	t.Parallel()
	e, s, rogue := pushSummaryStore(t)
	opTok, err := s.OperatorJWT()
	if err != nil {
		t.Fatal(err)
	}
	u := accountServer(t, opTok)
	checkSummary(t, "http", e.Run("push", "-A", "-u", u), rogue)
}

func TestPushSummaryOverNATSListsFailuresFirstSortedAndTheKeyOnce(t *testing.T) {
	t.Parallel()
	e, s, rogue := pushSummaryStore(t)
	oc, opTok, _ := s.Operator()
	_, sysTok, _ := s.Account("SYS")
	sv := natstest.StartFull(t, natstest.Trust{OperatorJWT: opTok, SystemAccount: oc.SystemAccount, SystemAccountJWT: sysTok})
	checkSummary(t, "nats", e.Run("push", "-A", "-u", sv.ClientURL(), "--timeout", "5s"), rogue)
}
