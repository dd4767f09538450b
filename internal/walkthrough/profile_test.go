package walkthrough_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// TestDocsNscURLResolvesCredsAndServersThatConnect replays the nats CLI page's use of nsc
// (docs.nats.io, using-nats/nats-tools/nats_cli: `nats context save example --nsc
// nsc://acme/orders/new`): the nats CLI runs `nsc generate profile nsc://acme/orders/new` and
// connects to the operator's service URLs with the creds file the profile names. With signet as
// nsc, that creds file and server let user new of account orders in and carry its messages;
// an nsc:// URL naming a user that does not exist is an error, not a profile.
func TestDocsNscURLResolvesCredsAndServersThatConnect(t *testing.T) {
	t.Parallel()
	p := newPage(t)
	p.nsc("add", "operator", "acme")
	p.nsc("add", "account", "orders")
	p.nsc("add", "user", "new")
	ns := startMemory(t, p.store("acme"), "")
	p.nsc("edit", "operator", "--service-url", ns.ClientURL())

	var profile struct {
		UserCreds string `json:"user_creds"`
		Operator  struct {
			Service []string `json:"service"`
		} `json:"operator"`
	}
	out := p.stdout("generate", "profile", "nsc://acme/orders/new")
	if err := json.Unmarshal([]byte(out), &profile); err != nil {
		t.Fatalf("generate profile printed no JSON profile: %v\n%s", err, out)
	}
	if len(profile.Operator.Service) != 1 || profile.UserCreds == "" {
		t.Fatalf("profile without a server or creds: %s", out)
	}
	c := dial(t, profile.Operator.Service[0], profile.UserCreds)
	sub := c.subscribe(t, "orders.new")
	c.publish(t, "orders.new", "order 1")
	receive(t, sub, "orders.new", "order 1")
	cz, err := ns.Connz(&server.ConnzOptions{Username: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(cz.Conns) != 1 || cz.Conns[0].Account != p.accountKey("acme", "orders") || cz.Conns[0].AuthorizedUser != p.user("acme", "orders", "new").Subject {
		t.Fatalf("the server does not see user new of account orders: %+v", cz.Conns)
	}

	if err := p.fails("generate", "profile", "nsc://acme/orders/old"); !strings.Contains(err, `"old"`) {
		t.Fatalf("nsc:// URL of a missing user: %v", err)
	}
}
