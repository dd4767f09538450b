package walkthrough_test

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// generatedKey runs `generate nkey --<kind> --store` and returns the public key it printed and
// the path of the seed file it stored, checking that the file is where nsc keeps it
// (keys/<kind letter>/<2nd and 3rd letters>/<public key>.nk, as the page's -K paths show).
func (p *page) generatedKey(kind string) (pub, path string) {
	p.t.Helper()
	r := p.e.Run("generate", "nkey", "--"+kind, "--store")
	if r.Error != nil {
		p.t.Fatalf("generate nkey --%s --store: %v\n%s", kind, r.Error, r.Err)
	}
	// The page shows an older nsc printing the seed first; current nsc, and signet, print the
	// public key and "<kind> key stored <path>", and never the seed of a stored key.
	lines := strings.Split(strings.TrimSpace(r.Out), "\n")
	if len(lines) != 2 || strings.HasPrefix(lines[0], "S") {
		p.t.Fatalf("generate nkey --%s --store printed %q, want the public key and where it is stored", kind, r.Out)
	}
	pub = lines[0]
	path = p.keyFile(pub)
	if lines[1] != kind+" key stored "+path {
		p.t.Fatalf("generate nkey --%s --store: %q, want the seed stored at %s", kind, lines[1], path)
	}
	return pub, path
}

// TestDocsSigningKeysServerChecksSignersScopesAndTemplates replays "nsc Signing Keys"
// (docs.nats.io, using-nats/nats-tools/nsc/signing_keys; seed 001):
//   - an operator signing key from `generate nkey --operator --store` signs account A (-K with
//     the seed file path), an account signing key signs user U: the server admits U, and once
//     the account signing key is removed from A ("if the signing key is missing, the operation
//     is rejected") it refuses U;
//   - a scoped signing key with role service (--allow-sub "q.>" --deny-pub ">"
//     --allow-pub-response) signs U with -K service: U answers requests on q.> and the server
//     denies it any other publish and subscription;
//   - a templated scope "{{account-name()}}.{{tag(team)}}.{{name()}}.>" signs pam (team:support)
//     and joe (team:leads): pam receives work on sales.support.pam.>, joe answers requests on
//     sales.leads.joe.>, and each is denied the other's subjects (and, as --allow-pub-response
//     makes the server do, any publish that is not a reply).
func TestDocsSigningKeysServerChecksSignersScopesAndTemplates(t *testing.T) {
	t.Parallel()
	t.Run("operator and account signing keys", func(t *testing.T) {
		t.Parallel()
		p := newPage(t)
		p.nsc("add", "operator", "O2")
		opk, opkPath := p.generatedKey("operator")
		if out := p.nsc("edit", "operator", "--sk", opk); !strings.Contains(out, `added signing key "`+opk+`"`) {
			t.Fatalf("edit operator --sk:\n%s", out)
		}
		p.nsc("describe", "operator")
		p.nsc("add", "account", "A", "-K", opkPath)
		apk, apkPath := p.generatedKey("account")
		if out := p.nsc("edit", "account", "--sk", apk, "-K", opkPath); !strings.Contains(out, `added signing key "`+apk+`"`) {
			t.Fatalf("edit account --sk:\n%s", out)
		}
		p.nsc("describe", "account")
		p.nsc("add", "user", "U", "-K", apkPath)
		p.nsc("describe", "user")

		ac, _ := p.account("O2", "A")
		uc := p.user("O2", "A", "U")
		if ac.Issuer != opk || uc.Issuer != apk || uc.IssuerAccount != ac.Subject {
			t.Fatalf("A issued by %s (want %s), U by %s for %s (want %s for %s)", ac.Issuer, opk, uc.Issuer, uc.IssuerAccount, apk, ac.Subject)
		}
		creds := p.creds("O2", "A", "U")
		ns := startMemory(t, p.store("O2"), "")
		u := dial(t, ns.ClientURL(), creds)
		sub := u.subscribe(t, "hello")
		u.publish(t, "hello", "signed by a signing key")
		receive(t, sub, "hello", "signed by a signing key")

		p.nsc("edit", "account", "--rm-sk", apk, "-K", opkPath)
		refused(t, startMemory(t, p.store("O2"), "").ClientURL(), creds, "a user signed by a signing key the account no longer lists")
	})

	t.Run("scoped signing keys and templates", func(t *testing.T) {
		t.Parallel()
		p := newPage(t)
		p.nsc("add", "operator", "O")
		p.nsc("add", "account", "A")
		sk := quoted(t, p.nsc("edit", "account", "-n", "A", "--sk", "generate"), "added signing key")
		p.nsc("edit", "signing-key", "--account", "A", "--role", "service", "--sk", sk, "--allow-sub", "q.>", "--deny-pub", ">", "--allow-pub-response")
		p.nsc("add", "user", "U", "-K", "service")
		p.nsc("describe", "user")
		p.nsc("add", "user", "client") // not on the page: someone to send U requests
		if uc := p.user("O", "A", "U"); uc.Issuer != sk || !uc.HasEmptyPermissions() {
			t.Fatalf("U is not a scoped user of the service key %s: issuer %s, permissions %+v", sk, uc.Issuer, uc.Permissions)
		}

		p.nsc("add", "account", "sales")
		salesKey := quoted(t, p.nsc("edit", "account", "-n", "sales", "--sk", "generate"), "added signing key")
		p.nsc("edit", "signing-key",
			"--account", "sales",
			"--role", "team-service",
			"--sk", salesKey,
			"--allow-sub", "{{account-name()}}.{{tag(team)}}.{{name()}}.>",
			"--allow-pub-response")
		p.nsc("add", "user", "pam", "-K", "team-service", "--tag", "team:support")
		p.nsc("add", "user", "joe", "-K", "team-service", "--tag", "team:leads")
		p.nsc("add", "user", "client", "-a", "sales")

		ns := startMemory(t, p.store("O"), "")
		url := ns.ClientURL()

		u := dial(t, url, p.creds("O", "A", "U"))
		if _, err := u.Subscribe("q.>", func(m *nats.Msg) { _ = m.Respond([]byte("served")) }); err != nil {
			t.Fatal(err)
		}
		if err := u.Flush(); err != nil {
			t.Fatal(err)
		}
		m, err := dial(t, url, p.creds("O", "A", "client")).Request("q.work", nil, wait)
		if err != nil || string(m.Data) != "served" {
			t.Fatalf("request to the scoped service user: %v %v", m, err)
		}
		u.violation(t, "q.work", func() error { return u.Publish("q.work", nil) })
		u.violation(t, "other", func() error { _, err := u.SubscribeSync("other"); return err })

		// pam and joe may publish only replies (--allow-pub-response): a user of sales without
		// a scope (not on the page) sends them work.
		client := dial(t, url, p.creds("O", "sales", "client"))
		pam := dial(t, url, p.creds("O", "sales", "pam"))
		joe := dial(t, url, p.creds("O", "sales", "joe"))
		tickets := pam.subscribe(t, "sales.support.pam.>")
		client.publish(t, "sales.support.pam.ticket", "for pam")
		receive(t, tickets, "sales.support.pam.ticket", "for pam")
		if _, err := joe.Subscribe("sales.leads.joe.>", func(m *nats.Msg) { _ = m.Respond([]byte("joe on it")) }); err != nil {
			t.Fatal(err)
		}
		if err := joe.Flush(); err != nil {
			t.Fatal(err)
		}
		if m, err := client.Request("sales.leads.joe.help", nil, wait); err != nil || string(m.Data) != "joe on it" {
			t.Fatalf("request to joe on his own subject: %v %v", m, err)
		}
		pam.violation(t, "sales.leads.joe.>", func() error { _, err := pam.SubscribeSync("sales.leads.joe.>"); return err })
		joe.violation(t, "sales.support.pam.>", func() error { _, err := joe.SubscribeSync("sales.support.pam.>"); return err })
		joe.violation(t, "sales.support.pam.ticket", func() error { return joe.Publish("sales.support.pam.ticket", nil) })
	})
}
