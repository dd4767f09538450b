package console_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/signet-dev/signet/console"
	"github.com/signet-dev/signet/internal/natstest"
)

// TestAccountsPageShowsJetStreamUseAndDriftFromTheServers: with system-account access, the
// accounts list shows each account's JetStream use as the servers report it (streams and
// bytes) and whether the servers hold the store's JWT (in-sync, or newer for an account changed
// in the store and not pushed).
func TestAccountsPageShowsJetStreamUseAndDriftFromTheServers(t *testing.T) {
	t.Parallel()
	e, s, ks := fixture(t)
	e.MustRun("edit", "account", "A", "--js-enable", "0")
	tr, _ := natstest.FromStore(t, s)
	srv := natstest.Start(t, tr, natstest.Options{Resolver: natstest.Full, Extra: fmt.Sprintf("jetstream { store_dir: %q }\n", t.TempDir())})
	e.MustRun("push", "-A", "-u", srv.ClientURL())

	creds := ks.CredsPath("O", "A", "alice")
	nc, err := nats.Connect(srv.ClientURL(), nats.UserCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "orders.1", []byte(strings.Repeat("x", 2000))); err != nil {
		t.Fatal(err)
	}
	// B changes in the store only: the server's JWT is now older than the store's.
	time.Sleep(1100 * time.Millisecond)
	e.MustRun("edit", "account", "B", "--conns", "9")

	sysCreds := ks.CredsPath("O", "SYS", "sys")
	c, hs := serve(t, console.Options{Store: s, KeyStore: ks, Servers: []string{srv.ClientURL()},
		SystemConn: func() ([]nats.Option, error) { return []nats.Option{nats.UserCredentials(sysCreds)}, nil }})
	b := newBrowser(t, hs)
	b.get(c.LoginPath())
	code, page := b.get("/accounts")
	if code != 200 {
		t.Fatalf("accounts page: %d", code)
	}
	row := func(name string) string {
		i := strings.Index(page, `<a href="/accounts/`+name+`">`)
		if i < 0 {
			t.Fatalf("no row for %s:\n%s", name, page)
		}
		j := strings.Index(page[i:], "</tr>")
		return page[i : i+j]
	}
	if a := row("A"); !strings.Contains(a, "1 stream · ") || !strings.Contains(a, "KiB") || !strings.Contains(a, "st-in-sync") {
		t.Fatalf("A's row lacks its stream use or in-sync state:\n%s", a)
	}
	if b := row("B"); !strings.Contains(b, "st-older") {
		t.Fatalf("B's row does not say the server holds an older JWT:\n%s", b)
	}
}
