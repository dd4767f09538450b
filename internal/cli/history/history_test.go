package history_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/signet-dev/signet/history"
	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/store"
)

func TestCLIChangesAreInTheHistoryAndVerifyChecksTheChain(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.Vars["SIGNET_NO_PUSH"] = "1"
	e.MustRun("init", "-n", "O")
	e.MustRun("add", "account", "A")
	e.MustRun("add", "user", "u", "-a", "A")
	e.MustRun("edit", "account", "A", "--conns", "7")
	e.MustRun("delete", "user", "u", "-a", "A")

	var recs []history.Record
	if err := json.Unmarshal([]byte(e.MustRun("history", "--json")), &recs); err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, r := range recs {
		seen = append(seen, r.Action+" "+r.Kind+" "+r.Name)
		if r.Who == "" {
			t.Errorf("record %d has no author", r.Seq)
		}
	}
	for _, want := range []string{"created operator O", "created account A", "created user u", "updated account A", "deleted user u"} {
		if !strings.Contains(strings.Join(seen, "\n"), want) {
			t.Errorf("history lacks %q; it has:\n%s", want, strings.Join(seen, "\n"))
		}
	}
	table := e.MustRun("history")
	if !strings.Contains(table, "nats.limits.conn: -1 → 7") {
		t.Errorf("history table does not show the conns change:\n%s", table)
	}
	if out := e.MustRunStatus("history", "verify"); !strings.Contains(out, "intact") {
		t.Errorf("verify of an untouched history said %q", out)
	}

	s, err := (store.Stores{Dir: e.StoresDir()}).Open("O")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(history.Path(s))
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	removed := append(append([]string{}, lines[:2]...), lines[3:]...)
	if err := os.WriteFile(history.Path(s), []byte(strings.Join(removed, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := e.MustFail("history", "verify"); !strings.Contains(out, "record 4") {
		t.Errorf("verify after removing record 3 said %q, want record 4 named", out)
	}
}
