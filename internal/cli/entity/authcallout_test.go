package entity_test

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/keystore"
)

// calloutService is an authorization service as an auth user runs it: it answers
// $SYS.REQ.USER.AUTH with a user JWT for the target account when the password matches, and
// an error otherwise. With xkp set the requests and responses are encrypted.
type calloutService struct {
	authAccount nkeys.KeyPair // signs the responses: the callout account
	target      nkeys.KeyPair // signs the user JWTs: the account users are placed in
	xkp         nkeys.KeyPair
	passwords   map[string]string
	requests    chan string // user names the service was asked about
}

func (c *calloutService) handle(m *nats.Msg) error {
	data := m.Data
	serverXKey := m.Header.Get("Nats-Server-Xkey")
	if c.xkp != nil {
		if serverXKey == "" {
			return errors.New("request not encrypted although the account has a curve key")
		}
		var err error
		if data, err = c.xkp.Open(data, serverXKey); err != nil {
			return fmt.Errorf("decrypt request: %w", err)
		}
	} else if serverXKey != "" {
		return errors.New("request encrypted although the account has no curve key")
	}
	req, err := jwt.DecodeAuthorizationRequestClaims(string(data))
	if err != nil {
		return fmt.Errorf("decode request: %w", err)
	}
	user, pass := req.ConnectOptions.Username, req.ConnectOptions.Password
	select {
	case c.requests <- user:
	default:
	}
	resp := jwt.NewAuthorizationResponseClaims(req.UserNkey)
	resp.Audience = req.Server.ID
	if want, ok := c.passwords[user]; ok && want == pass {
		uc := jwt.NewUserClaims(req.UserNkey)
		uc.Name = user
		uc.Permissions.Pub.Allow.Add("orders.>")
		uc.Permissions.Sub.Allow.Add("orders.>", "_INBOX.>")
		if resp.Jwt, err = uc.Encode(c.target); err != nil {
			return err
		}
	} else {
		resp.Error = "unknown user or wrong password"
	}
	token, err := resp.Encode(c.authAccount)
	if err != nil {
		return err
	}
	out := []byte(token)
	if c.xkp != nil {
		if out, err = c.xkp.Seal(out, serverXKey); err != nil {
			return err
		}
	}
	return m.Respond(out)
}

func mustKey(t *testing.T, ks keystore.KeyStore, pub string) nkeys.KeyPair {
	t.Helper()
	kp, err := ks.Get(pub)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func TestAuthCalloutPlacesPasswordUsersWithTheServicesPermissions(t *testing.T) {
	for _, curve := range []bool{false, true} {
		t.Run(fmt.Sprintf("curve=%t", curve), func(t *testing.T) {
			t.Parallel()
			e := clitest.New(t, cli.NewRootCmd)
			e.MustRun("add", "operator", "O", "--sys")
			e.MustRun("add", "account", "APP")
			e.MustRun("add", "account", "AUTH")
			e.MustRun("add", "user", "-a", "AUTH", "auth")
			// The sentinel: what a connection without a JWT of its own presents; its account's
			// callout decides who it is. It may do nothing by itself.
			e.MustRun("add", "user", "-a", "AUTH", "sentinel", "--bearer", "--deny-pubsub", ">")
			args := []string{"edit", "authcallout", "AUTH", "--auth-user", "auth", "--allowed-account", "APP"}
			if curve {
				args = append(args, "--curve", "generate")
			}
			out := e.MustRunStatus(args...)
			if !strings.Contains(out, "added auth user") || !strings.Contains(out, "added allowed account") {
				t.Fatalf("edit authcallout report:\n%s", out)
			}

			s := openStore(t, e, "O")
			ks := keystore.KeyStore{Dir: e.KeysDir()}
			authAC, appAC := accountClaims(t, s, "AUTH"), accountClaims(t, s, "APP")
			authUser, _, err := s.User("AUTH", "auth")
			if err != nil {
				t.Fatal(err)
			}
			if a := authAC.Authorization; !a.AuthUsers.Contains(authUser.Subject) || !a.AllowedAccounts.Contains(appAC.Subject) || (a.XKey != "") != curve {
				t.Fatalf("authorization in the JWT: %+v", a)
			}
			svc := &calloutService{
				authAccount: mustKey(t, ks, authAC.Subject),
				target:      mustKey(t, ks, appAC.Subject),
				passwords:   map[string]string{"alice": "s3cret"},
				requests:    make(chan string, 8),
			}
			if curve {
				// --curve generate keeps the seed in the keystore, where the service reads it.
				svc.xkp = mustKey(t, ks, authAC.Authorization.XKey)
			}

			_, sentinel, err := s.User("AUTH", "sentinel")
			if err != nil {
				t.Fatal(err)
			}
			tr, accounts := natstest.FromStore(t, s)
			srv := natstest.Start(t, tr, natstest.Options{Preload: accounts, Extra: fmt.Sprintf("default_sentinel: %q\n", sentinel)})

			svcConn, err := nats.Connect(srv.ClientURL(), nats.UserCredentials(ks.CredsPath("O", "AUTH", "auth")))
			if err != nil {
				t.Fatalf("the auth user bypasses the callout: %v", err)
			}
			defer svcConn.Close()
			svcErrs := make(chan error, 8)
			if _, err := svcConn.Subscribe("$SYS.REQ.USER.AUTH", func(m *nats.Msg) {
				if err := svc.handle(m); err != nil {
					svcErrs <- err
				}
			}); err != nil {
				t.Fatal(err)
			}
			if err := svcConn.Flush(); err != nil {
				t.Fatal(err)
			}

			asyncErrs := make(chan error, 8)
			nc, err := nats.Connect(srv.ClientURL(), nats.UserInfo("alice", "s3cret"), nats.NoReconnect(),
				nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { asyncErrs <- err }))
			if err != nil {
				select {
				case serr := <-svcErrs:
					t.Fatalf("connect as alice: %v (service: %v)", err, serr)
				default:
				}
				t.Fatalf("connect as alice through the callout: %v", err)
			}
			defer nc.Close()
			select {
			case u := <-svc.requests:
				if u != "alice" {
					t.Fatalf("callout asked about %q", u)
				}
			default:
				t.Fatal("alice connected without the callout being asked")
			}
			// alice is in APP, with what the service granted.
			sub, err := nc.SubscribeSync("orders.>")
			if err != nil {
				t.Fatal(err)
			}
			if err := nc.Publish("orders.1", []byte("x")); err != nil {
				t.Fatal(err)
			}
			if _, err := sub.NextMsg(5 * time.Second); err != nil {
				t.Fatalf("granted publish/subscribe on orders.>: %v", err)
			}
			if err := nc.Publish("secret.plans", []byte("x")); err != nil {
				t.Fatal(err)
			}
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-asyncErrs:
				if !strings.Contains(err.Error(), `Permissions Violation for Publish to "secret.plans"`) {
					t.Fatalf("publish outside the grant: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("publish outside the granted permissions was not denied")
			}
			// The server placed alice in APP: an ordinary APP user sees her messages.
			e.MustRun("add", "user", "-a", "APP", "app")
			appConn, err := nats.Connect(srv.ClientURL(), nats.UserCredentials(ks.CredsPath("O", "APP", "app")))
			if err != nil {
				t.Fatal(err)
			}
			defer appConn.Close()
			appSub, err := appConn.SubscribeSync("orders.>")
			if err != nil {
				t.Fatal(err)
			}
			if err := appConn.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := nc.Publish("orders.2", []byte("from alice")); err != nil {
				t.Fatal(err)
			}
			if m, err := appSub.NextMsg(5 * time.Second); err != nil || string(m.Data) != "from alice" {
				t.Fatalf("alice is not in account APP: %v", err)
			}

			// A wrong password is refused by the service, and so by the server.
			if bad, err := nats.Connect(srv.ClientURL(), nats.UserInfo("alice", "guess"), nats.NoReconnect()); err == nil {
				bad.Close()
				t.Fatal("wrong password accepted")
			} else if !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
				t.Fatalf("wrong password: %v", err)
			}
			select {
			case err := <-svcErrs:
				t.Fatalf("service: %v", err)
			default:
			}
		})
	}
}

func TestEditAuthCalloutAddsRemovesAndDisables(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys")
	e.MustRun("add", "account", "APP")
	e.MustRun("add", "account", "AUTH")
	e.MustRun("add", "user", "-a", "AUTH", "auth")
	e.MustRun("add", "user", "-a", "AUTH", "auth2")
	s := openStore(t, e, "O")
	u1, _, _ := s.User("AUTH", "auth")
	u2, _, _ := s.User("AUTH", "auth2")
	app := accountClaims(t, s, "APP")
	x, err := nkeys.CreateCurveKeys()
	if err != nil {
		t.Fatal(err)
	}
	xpub, _ := x.PublicKey()

	// By public key and by name; '*' for any account; a curve public key.
	e.MustRun("edit", "authcallout", "-a", "AUTH", "--auth-user", u1.Subject+",auth2", "--allowed-account", "*", "-x", xpub) // -x: nsc's short form of --curve
	a := accountClaims(t, s, "AUTH").Authorization
	if len(a.AuthUsers) != 2 || !a.AuthUsers.Contains(u2.Subject) || !a.AllowedAccounts.Contains("*") || a.XKey != xpub {
		t.Fatalf("after add: %+v", a)
	}
	out := e.MustRunStatus("edit", "authcallout", "AUTH", "--rm-auth-user", "auth2", "--rm-allowed-account", "*", "--allowed-account", "APP", "--rm-curve")
	if !strings.Contains(out, "removed auth user") || !strings.Contains(out, "removed curve key") {
		t.Errorf("rm report:\n%s", out)
	}
	a = accountClaims(t, s, "AUTH").Authorization
	if len(a.AuthUsers) != 1 || a.AuthUsers[0] != u1.Subject || len(a.AllowedAccounts) != 1 || a.AllowedAccounts[0] != app.Subject || a.XKey != "" {
		t.Fatalf("after rm: %+v", a)
	}

	before := clitest.Snapshot(t, e.Home)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"edit", "authcallout", "AUTH"}, "nothing to edit"},
		{[]string{"edit", "authcallout", "AUTH", "--disable", "--auth-user", "auth"}, "--disable"},
		{[]string{"edit", "authcallout", "AUTH", "--auth-user", app.Subject}, "not a user key"},
		{[]string{"edit", "authcallout", "AUTH", "--auth-user", "nobody"}, "nobody"},
		{[]string{"edit", "authcallout", "AUTH", "--allowed-account", u1.Subject}, "not an account key"},
		{[]string{"edit", "authcallout", "AUTH", "--allowed-account", "NOSUCH"}, "NOSUCH"},
		{[]string{"edit", "authcallout", "AUTH", "--allowed-account", "*"}, `"*"`}, // '*' or a list, not both
		{[]string{"edit", "authcallout", "AUTH", "--curve", app.Subject}, "not a curve"},
		{[]string{"edit", "authcallout", "AUTH", "--curve", "generate", "--rm-curve"}, "exclusive"},
		{[]string{"edit", "authcallout", "AUTH", "--rm-auth-user", "auth"}, "no auth user"},
		{[]string{"edit", "authcallout", "NOSUCH", "--auth-user", "auth"}, "NOSUCH"},
	} {
		if msg := e.MustFail(c.args...); !strings.Contains(msg, c.want) {
			t.Errorf("signet %s: %q does not say %q", strings.Join(c.args, " "), msg, c.want)
		}
		if !maps.Equal(before, clitest.Snapshot(t, e.Home)) {
			t.Fatalf("signet %s failed but changed files", strings.Join(c.args, " "))
		}
	}

	e.MustRun("edit", "authcallout", "AUTH", "--disable")
	if a := accountClaims(t, s, "AUTH").Authorization; a.IsEnabled() || len(a.AllowedAccounts) > 0 || a.XKey != "" {
		t.Fatalf("after --disable: %+v", a)
	}
}

// -K on edit authcallout takes the operator key from a seed file when the keystore lacks it.
func TestEditAuthCalloutSignsWithTheKeyGiven(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("add", "operator", "O", "--sys", "--generate-signing-key")
	e.MustRun("add", "account", "AUTH")
	e.MustRun("add", "user", "-a", "AUTH", "auth")
	s := openStore(t, e, "O")
	oc, _, err := s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	sk := oc.SigningKeys[0]
	ks := keystore.KeyStore{Dir: e.KeysDir()}
	seedFile := moveKeyToFile(t, ks, sk)
	if msg := e.MustFail("edit", "authcallout", "AUTH", "--auth-user", "auth", "-K", sk); !strings.Contains(msg, "seed") {
		t.Fatalf("-K with a public key whose seed is gone: %s", msg)
	}
	e.MustRun("edit", "authcallout", "AUTH", "--auth-user", "auth", "-K", seedFile)
	if ac := accountClaims(t, s, "AUTH"); ac.Issuer != sk || !ac.Authorization.IsEnabled() {
		t.Fatalf("issuer %s, authorization %+v", ac.Issuer, ac.Authorization)
	}
}

// moveKeyToFile takes pub's seed out of the keystore into a file of its own and returns the path.
func moveKeyToFile(t *testing.T, ks keystore.KeyStore, pub string) string {
	t.Helper()
	kp := mustKey(t, ks, pub)
	seed, err := kp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "key.nk")
	if err := os.WriteFile(p, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ks.Remove(pub); err != nil {
		t.Fatal(err)
	}
	return p
}
