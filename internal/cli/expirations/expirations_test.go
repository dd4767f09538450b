package expirations_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/cli/expirations"
)

func TestExpirationsReportsWhatExpiresWithinTheWindow(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	now := time.Now().Truncate(time.Second)
	e.Now = func() time.Time { return now }
	e.MustRun("add", "operator", "O")
	e.MustRun("add", "account", "A", "--expiry", "10d")
	e.MustRun("add", "user", "-a", "A", "soon", "--expiry", "2d")
	e.MustRun("add", "user", "-a", "A", "later", "--expiry", "1y")
	e.MustRun("add", "user", "-a", "A", "never")
	// An expired user: made in the past.
	e.Now = func() time.Time { return now.AddDate(0, 0, -30) }
	e.MustRun("add", "user", "-a", "A", "old", "--expiry", "1d")
	e.Now = func() time.Time { return now }

	var rep expirations.Report
	if err := json.Unmarshal([]byte(e.MustRun("expirations", "--json", "--within", "1w")), &rep); err != nil {
		t.Fatal(err)
	}
	if want := now.AddDate(0, 0, 7).Format(time.RFC3339); rep.ExpirationThreshold != want {
		t.Errorf("threshold %s, want %s", rep.ExpirationThreshold, want)
	}
	type state struct{ soon, expired bool }
	got := map[string]state{}
	var order []string
	for _, r := range rep.Report {
		got[r.Resource] = state{r.ExpiresSoon, r.Expired}
		order = append(order, r.Resource)
		if r.Expiry == 0 && (r.When != "Never" || r.ExpirationDate != "") {
			t.Errorf("%s: no expiry but when %q date %q", r.Resource, r.When, r.ExpirationDate)
		}
	}
	creds := e.KeysDir() + "/creds/O/A/"
	want := map[string]state{
		"O":                   {},
		"O/A":                 {}, // 10 days: outside a week
		"O/A/soon":            {soon: true},
		creds + "soon.creds":  {soon: true},
		"O/A/later":           {},
		creds + "later.creds": {},
		"O/A/never":           {},
		creds + "never.creds": {},
		"O/A/old":             {soon: true, expired: true},
		creds + "old.creds":   {soon: true, expired: true},
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: got %+v (listed %t), want %+v", k, g, ok, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("report lists %v", order)
	}
	// The operator first, then the account, then each user followed by its creds file.
	if order[0] != "O" || order[1] != "O/A" || order[3] != creds+strings.TrimPrefix(order[2], "O/A/")+".creds" {
		t.Errorf("order %v", order)
	}

	// --skip keeps what expired or expires soon; a wider window catches the account.
	rep = expirations.Report{}
	if err := json.Unmarshal([]byte(e.MustRun("expirations", "--json", "--skip", "-e", "2w")), &rep); err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, r := range rep.Report {
		kept = append(kept, r.Resource)
	}
	if len(kept) != 5 || kept[0] != "O/A" {
		t.Errorf("--skip --within 2w kept %v", kept)
	}

	table := e.MustRun("expirations", "--within", "1w")
	for _, s := range []string{"Expiration Report (In 1 Week)", "Soon", "Yes", "In 1 Year", "Never"} {
		if !strings.Contains(table, s) {
			t.Errorf("table lacks %q:\n%s", s, table)
		}
	}
	if msg := e.MustFail("expirations", "--within", "soonish"); !strings.Contains(msg, "--within") {
		t.Errorf("bad --within: %s", msg)
	}
}
