package accountserver

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/natstest"
)

// accountSeed is a valid account seed, the secret a user may paste where a public key belongs.
func accountSeed(t testing.TB) string {
	t.Helper()
	kp, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	seed, err := kp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	return string(seed)
}

// A seed sent where an account key belongs is refused without being shown back.
func TestSeedInRequestPathIsNotEchoed(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	s := startServer(t, testConfig(t, op))
	seed := accountSeed(t)
	_, _, tok := op.Account(t, "A")
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		code, body := request(t, method, accountsURL(s, seed), tok)
		if code != http.StatusBadRequest {
			t.Errorf("%s accounts/<seed>: %d %q, want 400", method, code, body)
		}
		if strings.Contains(body, seed[2:]) {
			t.Errorf("%s accounts/<seed> echoes the seed: %q", method, body)
		}
	}
}

// A delete request naming a seed is refused, over HTTP and NATS, and neither the answers nor the
// server's log show the seed (the logger here redacts nothing itself).
func TestSeedInDeleteRequestIsNotEchoed(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	ns := natstest.StartMemory(t, op.Trust(), nil)
	cfg := testConfig(t, op)
	natsConfig(t, &cfg, op, ns.ClientURL())
	var logs natstest.SyncBuffer
	s := startLogging(t, cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	waitConnected(t, s)
	_, pub, tok := op.Account(t, "A")
	mustPost(t, s, pub, tok)
	seed := accountSeed(t)

	code, body := request(t, http.MethodDelete, accountsURL(s, pub), deleteRequest(t, op.KP, time.Minute, pub, seed))
	if code != http.StatusBadRequest || strings.Contains(body, seed[2:]) {
		t.Errorf("HTTP delete naming a seed: %d %q", code, body)
	}

	sys := sysConn(t, ns, op)
	if r := signetAnswer(t, sys, "$SYS.REQ.CLAIMS.DELETE", deleteRequest(t, op.KP, time.Minute, pub, seed)); r.Error == nil || strings.Contains(r.raw, seed[2:]) {
		t.Errorf("NATS delete naming a seed: %s", r.raw)
	}
	if strings.Contains(logs.String(), seed[2:]) {
		t.Errorf("the server's log shows the seed:\n%s", logs.String())
	}
}

// A seed in the subject of a resolver request is not shown back in the reply.
func TestSeedInResolverSubjectIsNotEchoed(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	ns := natstest.StartMemory(t, op.Trust(), nil)
	connectedServer(t, op, ns)
	_, _, tok := op.Account(t, "A")
	seed := accountSeed(t)
	sys := sysConn(t, ns, op)
	for _, subj := range []string{
		"$SYS.REQ.ACCOUNT." + seed + ".CLAIMS.UPDATE",
		"$SYS.ACCOUNT." + seed + ".CLAIMS.UPDATE",
	} {
		if r := signetAnswer(t, sys, subj, tok); r.Error == nil || strings.Contains(r.raw, seed[2:]) {
			t.Errorf("%s: %s", subj, r.raw)
		}
	}
	msg, err := sys.Request("$SYS.REQ.ACCOUNT."+seed+".CLAIMS.LOOKUP", nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(msg.Data), seed[2:]) {
		t.Errorf("lookup of a seed echoes it: %q", msg.Data)
	}
}

func sysConn(t testing.TB, ns *natstest.Server, op *natstest.Operator) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(ns.ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

type claimAnswer struct {
	server.ServerAPIClaimUpdateResponse
	raw string
}

// signetAnswer sends a request and returns signet serve's answer (the nats-server answers some
// of these subjects too).
func signetAnswer(t testing.TB, nc *nats.Conn, subj, data string) claimAnswer {
	t.Helper()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest(subj, inbox, []byte(data)); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("%s: no answer from signet: %v", subj, err)
		}
		var r claimAnswer
		if err := json.Unmarshal(m.Data, &r.ServerAPIClaimUpdateResponse); err != nil {
			t.Fatalf("%s: answer %q: %v", subj, m.Data, err)
		}
		if r.Server != nil && r.Server.Version == "signet" {
			r.raw = string(m.Data)
			return r
		}
	}
}

// The password of a NATS server URL shows neither in the log lines about the connection nor in
// the error about a URL that does not parse (Go's URL parser quotes what it refuses).
func TestNATSPasswordIsNotLogged(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	ns := natstest.StartMemory(t, op.Trust(), nil)
	addr := strings.TrimPrefix(ns.ClientURL(), "nats://")
	cfg := testConfig(t, op)
	natsConfig(t, &cfg, op, "nats://bob:s3cretpw@"+addr)
	var logs natstest.SyncBuffer
	startLogging(t, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if !strings.Contains(logs.String(), addr) || strings.Contains(logs.String(), "s3cretpw") {
		t.Errorf("the log shows the password:\n%s", logs.String())
	}

	for _, url := range []string{"nats://bob:s3cret%zz@" + addr, "bob:s3cretpw@[" + addr, "nats://s3crettoken@" + addr} {
		cfg := testConfig(t, op)
		natsConfig(t, &cfg, op, url)
		logs := &natstest.SyncBuffer{}
		s, err := New(cfg, slog.New(slog.NewTextHandler(logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if err = s.Start(); err == nil {
			s.Shutdown(context.Background())
		}
		if strings.Contains(fmt.Sprint(err), "s3cret") || strings.Contains(logs.String(), "s3cret") {
			t.Errorf("%s: error %v, log:\n%s", url, err, logs)
		}
	}
}

// TestSeedInAPostedAccountNameDoesNotReachTheLog: New redacts seeds from whatever logger it is
// given. The account's name in a POSTed JWT is the request's text that signet serve logs
// ("updated account jwt"); here it quotes an operator, an account and a user seed, and the
// logger, writing to a buffer, redacts nothing itself.
func TestSeedInAPostedAccountNameDoesNotReachTheLog(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	var seeds []string
	for _, create := range []func() (nkeys.KeyPair, error){nkeys.CreateOperator, nkeys.CreateAccount, nkeys.CreateUser} {
		kp, err := create()
		if err != nil {
			t.Fatal(err)
		}
		seed, _ := kp.Seed()
		seeds = append(seeds, string(seed))
	}
	var logs natstest.SyncBuffer
	s := startLogging(t, testConfig(t, op), slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	_, pub, tok := op.Account(t, "", func(ac *jwt.AccountClaims) { ac.Name = "team " + strings.Join(seeds, " ") })
	mustPost(t, s, pub, tok)
	if !strings.Contains(logs.String(), "updated account jwt") {
		t.Fatalf("the log has no line about the update (the test needs one):\n%s", logs.String())
	}
	var shown []string
	for _, seed := range seeds {
		if strings.Contains(logs.String(), seed[2:]) {
			shown = append(shown, seed[:2]+"...")
		}
	}
	if len(shown) > 0 {
		t.Errorf("the log shows seeds %v:\n%s", shown, logs.String())
	}
}
