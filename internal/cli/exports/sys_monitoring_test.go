package exports_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestAccountsImportTheirOwnMonitoringFromTheSystemAccount: as with nsc, the system account
// exports the per-account monitoring services; an account imports CONNZ for its own key and a
// nats-server answers it with that account's connections. Importing another account's is
// refused (the account token position).
func TestAccountsImportTheirOwnMonitoringFromTheSystemAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sys := account(t, e, "SYS")
	if len(sys.SigningKeys) != 1 {
		t.Errorf("SYS signing keys: %v, want one (as nsc)", sys.SigningKeys.Keys())
	}
	a, b := account(t, e, "A").Subject, account(t, e, "B").Subject
	subject := "$SYS.REQ.ACCOUNT." + a + ".CONNZ"
	e.MustRun("add", "import", "-a", "A", "--service", "--src-account", "SYS", "--remote-subject", subject, "--local-subject", "my.connz")
	if msg := e.MustFail("add", "import", "-a", "A", "--service", "--src-account", "SYS",
		"--remote-subject", "$SYS.REQ.ACCOUNT."+b+".CONNZ", "--local-subject", "their.connz"); !strings.Contains(msg, "token") && !strings.Contains(msg, b) {
		t.Errorf("importing another account's monitoring: %s", msg)
	}

	ns := startServer(t, e)
	nc := connect(t, e, ns, "A")
	connect(t, e, ns, "B") // another account's connection, not in A's CONNZ
	m, err := nc.Request("my.connz", nil, 5*time.Second)
	if err != nil {
		t.Fatalf("request own CONNZ through the import: %v", err)
	}
	var resp struct {
		Data struct {
			NumConn int `json:"num_connections"`
			Conns   []struct {
				CID uint64 `json:"cid"`
			} `json:"connections"`
		} `json:"data"`
		Error *struct {
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(m.Data, &resp); err != nil || resp.Error != nil {
		t.Fatalf("CONNZ answer: %v %s", err, m.Data)
	}
	cid, err := nc.GetClientID()
	if err != nil {
		t.Fatal(err)
	}
	if resp.Data.NumConn != 1 || len(resp.Data.Conns) != 1 || resp.Data.Conns[0].CID != cid {
		t.Errorf("CONNZ for %s: want its one connection (cid %d)\n%s", a, cid, m.Data)
	}
}
