package walkthrough_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsManagedOperatorAccountSignedByAccountServerConnects replays "Managed Operators"
// (docs.nats.io, using-nats/nats-tools/nsc/managed; seed 000) with a real `signet serve` as the
// operator's account server in signing mode and a nats-server that resolves accounts from it
// (resolver: URL(...)):
//   - the operator's owner points the operator at the account server (`edit operator -u
//     .../jwt/v1`) and at the nats-server (`edit operator -n nats://...`), and pushes the
//     system account;
//   - a user of the operator runs `add operator -u .../jwt/v1/operator`: a managed operator;
//     `add account A` pushes the self-signed account, which signet serve signs with the
//     operator signing key, and pulls it back; `add user U`;
//   - `tool sub` and `tool pub hello world` find the nats-server through the operator's service
//     URL; the server fetched A from signet serve, runs the JWT the store holds, and delivers.
//   - another user runs `init -u .../jwt/v1/operator -n alpha`, and its user alpha connects.
func TestDocsManagedOperatorAccountSignedByAccountServerConnects(t *testing.T) {
	t.Parallel()
	// The operator's JWT names both servers, so their ports are chosen before they start.
	asURL := fmt.Sprintf("http://127.0.0.1:%d/jwt/v1", freePort(t))
	natsPort := freePort(t)
	natsURL := fmt.Sprintf("nats://127.0.0.1:%d", natsPort)

	owner := newPage(t)
	owner.nsc("add", "operator", "alpha", "--sys")
	sk := quoted(t, owner.nsc("edit", "operator", "--sk", "generate"), "added signing key")
	owner.nsc("edit", "operator", "-u", asURL)
	owner.nsc("edit", "operator", "-n", natsURL)
	serve := owner.start("serve", "--operator", "alpha", "--http", strings.TrimPrefix(strings.TrimSuffix(asURL, "/jwt/v1"), "http://"),
		"--signing-key", owner.keyFile(sk))
	poll(t, "signet serve does not serve the operator JWT at "+asURL+"/operator", func() bool {
		select {
		case res := <-serve.done:
			serve.res = &res
			t.Fatalf("signet serve ended: %v\n%s", res.Error, res.Err)
		default:
		}
		resp, err := http.Get(asURL + "/operator")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	owner.nsc("push", "-A")

	oc, opJWT, err := owner.store("alpha").Operator()
	if err != nil {
		t.Fatal(err)
	}
	ns := startConfig(t, writeConfig(t, "server.conf", fmt.Sprintf(
		"listen: 127.0.0.1:%d\noperator: %q\nsystem_account: %q\nresolver: URL(%s/accounts/)\n",
		natsPort, opJWT, oc.SystemAccount, asURL)))

	p := newPage(t)
	if out := p.nsc("add", "operator", "-u", asURL+"/operator"); !strings.Contains(out, `managed operator "alpha"`) {
		t.Fatalf("add operator -u:\n%s", out)
	}
	if !p.store("alpha").Info.Managed {
		t.Fatal("the operator added from its account server is not managed")
	}
	out := p.nsc("add", "account", "A")
	if !strings.Contains(out, `pushed account "A"`) || !strings.Contains(out, `pulled account "A"`) {
		t.Fatalf("add account A did not push to and pull from the account server:\n%s", out)
	}
	ac, tok := p.account("alpha", "A")
	if ac.Issuer != sk {
		t.Fatalf("A is issued by %s, want the operator signing key %s that signet serve holds", ac.Issuer, sk)
	}
	p.nsc("add", "user", "U")

	// nsc tool pub hello world, with a subscriber that stops after one message.
	sub := p.start("tool", "sub", "hello", "--max-messages", "1")
	sub.listening(t, ns, ac.Subject, "hello", 1)
	p.nsc("tool", "pub", "hello", "world")
	if got := sub.wait(t).Out; !strings.Contains(got, "received on [hello]: 'world'") {
		t.Fatalf("tool sub printed:\n%s", got)
	}
	waitServed(t, ns, tok)

	// nsc init -u http://localhost:6060/jwt/v1/operator -n alpha
	q := newPage(t)
	q.nsc("init", "-u", asURL+"/operator", "-n", "alpha")
	c := dial(t, natsURL, q.creds("alpha", "alpha", "alpha"))
	s := c.subscribe(t, "greeting")
	c.publish(t, "greeting", "from alpha")
	receive(t, s, "greeting", "from alpha")
	if qa, _ := q.account("alpha", "alpha"); qa.Issuer != sk {
		t.Fatalf("account alpha from init -u is issued by %s, want %s", qa.Issuer, sk)
	}
	serve.stop(t)
}

// keyFile is where the keystore keeps the seed of pub (nsc's layout).
func (p *page) keyFile(pub string) string {
	return filepath.Join(p.e.KeysDir(), "keys", pub[:1], pub[1:3], pub+".nk")
}
