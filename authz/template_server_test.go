package authz

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/signet-dev/signet/internal/natstest"
)

// scopedFixture is an operator-mode nats-server trusting an account "sales" whose
// scoped signing keys carry templates, plus an unrestricted admin connection.
type scopedFixture struct {
	t      *testing.T
	srv    *natstest.Server
	accKP  nkeys.KeyPair
	acc    *jwt.AccountClaims // as decoded from the JWT the server loaded
	scopes map[string]nkeys.KeyPair
	admin  *nats.Conn
}

func newScopedFixture(t *testing.T, roles map[string]UserPermOptions) *scopedFixture {
	t.Helper()
	op := natstest.NewOperator(t, "O")
	f := &scopedFixture{t: t, scopes: map[string]nkeys.KeyPair{}}
	var scopes []*jwt.UserScope
	for role, o := range roles {
		kp, err := nkeys.CreateAccount()
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := kp.PublicKey()
		s := jwt.NewUserScope()
		s.Key, s.Role = pub, role
		if _, err := o.Apply(&s.Template); err != nil {
			t.Fatalf("role %s: %v", role, err)
		}
		scopes = append(scopes, s)
		f.scopes[role] = kp
	}
	accKP, accPub, accJWT := op.Account(t, "sales", func(ac *jwt.AccountClaims) {
		ac.Tags.Add("dept:eng", "dept:ops")
		for _, s := range scopes {
			ac.SigningKeys.AddScopedSigner(s)
		}
	})
	f.accKP = accKP
	var err error
	if f.acc, err = jwt.DecodeAccountClaims(accJWT); err != nil {
		t.Fatal(err)
	}
	f.srv = natstest.StartMemory(t, op.Trust(), map[string]string{accPub: accJWT})
	adminJWT, adminSeed := op.User(t, accKP, "admin")
	f.admin = f.connect(adminJWT, adminSeed)
	return f
}

func (f *scopedFixture) connect(tok string, seed []byte) *nats.Conn {
	f.t.Helper()
	nc, err := nats.Connect(f.srv.ClientURL(), nats.UserJWTAndSeed(tok, string(seed)),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}), nats.NoReconnect())
	if err != nil {
		f.t.Fatalf("connect: %v", err)
	}
	f.t.Cleanup(nc.Close)
	return nc
}

// user issues a user JWT signed by the scoped key of role, the way `add user -K role` does.
func (f *scopedFixture) user(role, name string, tags ...string) (*jwt.UserClaims, string, []byte) {
	f.t.Helper()
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	seed, _ := ukp.Seed()
	uc := jwt.NewUserClaims(upub)
	uc.Name = name
	uc.IssuerAccount = f.acc.Subject
	uc.Tags.Add(tags...)
	uc.SetScoped(true)
	tok, err := uc.Encode(f.scopes[role])
	if err != nil {
		f.t.Fatal(err)
	}
	return uc, tok, seed
}

// expand previews the user's permissions from the scope stored in the account JWT.
func (f *scopedFixture) expand(role string, uc *jwt.UserClaims) (jwt.UserPermissionLimits, []string, error) {
	f.t.Helper()
	pub, _ := f.scopes[role].PublicKey()
	s, ok := f.acc.SigningKeys.GetScope(pub)
	if !ok {
		f.t.Fatalf("role %s not in account", role)
	}
	return ExpandScopedUser(s.(*jwt.UserScope), uc, f.acc)
}

// literal turns a permission subject into a concrete subject it covers.
func literal(s string) string {
	s = strings.ReplaceAll(s, "*", "w")
	return strings.ReplaceAll(s, ">", "any.thing")
}

// violated reports whether the server answered the last request on nc with a permissions
// violation naming what; the server sends it before the PONG that ends Flush.
func violated(t *testing.T, nc *nats.Conn, what string) bool {
	t.Helper()
	if err := nc.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	err := nc.LastError()
	return err != nil && strings.Contains(err.Error(), what)
}

func (f *scopedFixture) canSub(nc *nats.Conn, subj string) bool {
	f.t.Helper()
	sub, err := nc.SubscribeSync(subj)
	if err != nil {
		f.t.Fatalf("subscribe %q: %v", subj, err)
	}
	defer sub.Unsubscribe()
	if violated(f.t, nc, fmt.Sprintf("Subscription to %q", subj)) {
		return false
	}
	if err := f.admin.Publish(subj, []byte("hi")); err != nil {
		f.t.Fatal(err)
	}
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		f.t.Fatalf("subscription to %q was accepted but got no message: %v", subj, err)
	}
	return true
}

func (f *scopedFixture) canPub(nc *nats.Conn, subj string) bool {
	f.t.Helper()
	sub, err := f.admin.SubscribeSync(subj)
	if err != nil {
		f.t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := f.admin.Flush(); err != nil {
		f.t.Fatal(err)
	}
	if err := nc.Publish(subj, []byte("hi")); err != nil {
		f.t.Fatal(err)
	}
	if violated(f.t, nc, fmt.Sprintf("Publish to %q", subj)) {
		return false
	}
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		f.t.Fatalf("publish to %q was accepted but not delivered: %v", subj, err)
	}
	return true
}

func TestExpansionMatchesServer(t *testing.T) {
	t.Parallel()
	f := newScopedFixture(t, map[string]UserPermOptions{
		"team-service": {AllowSub: []string{"{{account-name()}}.{{tag(team)}}.{{name()}}.>"}, AllowPubResponse: 1, AllowPubResponseSet: true},
		"multi": {
			AllowSub: []string{"m.{{tag(team)}}.{{tag(region)}}", "a.{{account-tag(dept)}}.{{subject()}}"},
			AllowPub: []string{"p.{{account-subject()}}", "x.{{tag(missing)}}"},
		},
		"names":    {AllowSub: []string{"n.{{ name() }}"}, AllowPub: []string{"{{tag(missing)}}.x"}},
		"bad-deny": {DenyPub: []string{"{{tag(missing)}}"}},
		"unknown":  {AllowSub: []string{"{{nope()}}.x"}},
	})

	type probe struct {
		subj string
		ok   bool
	}
	cases := []struct {
		role, name string
		tags       []string
		wantSub    []string // expected expansion of the sub allow list
		wantPub    []string
		wantDeny   []string // expected pub deny list
		subs, pubs []probe  // extra subjects the expansion does not allow
	}{
		{role: "team-service", name: "pam", tags: []string{"team:support"}, wantSub: []string{"sales.support.pam.>"},
			subs: []probe{{"sales.leads.joe.x", false}, {"sales.support.joe.x", false}, {"sales.support.pam", false}},
			pubs: []probe{{"anything", false}}}, // response permissions turn off the blanket publish allow
		{role: "team-service", name: "joe", tags: []string{"team:leads"}, wantSub: []string{"sales.leads.joe.>"},
			subs: []probe{{"sales.support.pam.x", false}}},
		{role: "multi", name: "mu", tags: []string{"team:a", "team:b", "region:eu", "region:us"},
			wantSub: []string{"a.eng.UPUB", "a.ops.UPUB", "m.a.eu", "m.a.us", "m.b.eu", "m.b.us"},
			wantPub: []string{"p.APUB"},
			subs:    []probe{{"m.c.eu", false}, {"m.a.asia", false}, {"a.eng.other", false}},
			pubs:    []probe{{"x.foo", false}, {"p.other", false}}},
		{role: "names", name: "nora", wantSub: []string{"n.nora"}, wantDeny: []string{">"},
			subs: []probe{{"n.pam", false}}, pubs: []probe{{"y", false}, {"missing.x", false}}},
		{role: "names", name: "sp ace", wantDeny: []string{">"},
			subs: []probe{{"n.sp", false}, {"anything", false}}, pubs: []probe{{"y", false}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			uc, tok, seed := f.user(c.role, c.name, c.tags...)
			lim, _, err := f.expand(c.role, uc)
			if err != nil {
				t.Fatalf("expand: %v", err)
			}
			fix := func(l []string) []string {
				var out []string
				for _, s := range l {
					s = strings.ReplaceAll(s, "UPUB", uc.Subject)
					out = append(out, strings.ReplaceAll(s, "APUB", f.acc.Subject))
				}
				return out
			}
			got := slices.Sorted(slices.Values(lim.Sub.Allow))
			if !slices.Equal(got, fix(c.wantSub)) || !slices.Equal(lim.Pub.Allow, fix(c.wantPub)) || !slices.Equal(lim.Pub.Deny, c.wantDeny) {
				t.Fatalf("expansion = %+v, want sub %q pub %q deny pub %q", lim.Permissions, fix(c.wantSub), fix(c.wantPub), c.wantDeny)
			}
			nc := f.connect(tok, seed)
			// Every expanded allow entry works on the server...
			for _, s := range lim.Sub.Allow {
				if !f.canSub(nc, literal(s)) {
					t.Errorf("server refused subscription to %q, which the preview allows", literal(s))
				}
			}
			for _, s := range lim.Pub.Allow {
				if !f.canPub(nc, literal(s)) {
					t.Errorf("server refused publish to %q, which the preview allows", literal(s))
				}
			}
			if lim.Resp != nil && len(lim.Sub.Allow) > 0 {
				// The response permission lets the user answer a request it received.
				svc := literal(lim.Sub.Allow[0])
				sub, err := nc.Subscribe(svc, func(m *nats.Msg) { _ = m.Respond([]byte("pong")) })
				if err != nil {
					t.Fatal(err)
				}
				if err := nc.Flush(); err != nil {
					t.Fatal(err)
				}
				if m, err := f.admin.Request(svc, []byte("ping"), 5*time.Second); err != nil || string(m.Data) != "pong" {
					t.Errorf("request to %q: %v", svc, err)
				}
				_ = sub.Unsubscribe()
			}
			// ...and the subjects around them behave as the preview says.
			for _, p := range c.subs {
				if got := f.canSub(nc, p.subj); got != p.ok {
					t.Errorf("sub %q: server allows=%v, want %v", p.subj, got, p.ok)
				}
			}
			for _, p := range c.pubs {
				if got := f.canPub(nc, p.subj); got != p.ok {
					t.Errorf("pub %q: server allows=%v, want %v", p.subj, got, p.ok)
				}
			}
		})
	}

	// Where the preview reports an error, the server refuses the connection.
	for _, role := range []string{"bad-deny", "unknown"} {
		uc, tok, seed := f.user(role, "u"+role)
		if _, _, err := f.expand(role, uc); err == nil {
			t.Errorf("%s: preview expanded without error", role)
		}
		nc, err := nats.Connect(f.srv.ClientURL(), nats.UserJWTAndSeed(tok, string(seed)), nats.NoReconnect())
		if err == nil {
			nc.Close()
			t.Errorf("%s: server accepted a user the preview says it refuses", role)
		} else if !strings.Contains(strings.ToLower(err.Error()), "authorization") {
			t.Errorf("%s: connect error = %v, want an authorization violation", role, err)
		}
	}
}
