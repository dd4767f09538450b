package signing_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/store"
)

func TestUserRevocations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "user", "U", "-a", "A")
	e.MustRun("add", "user", "V", "-a", "A")
	u := user(t, e, "A", "U")

	out := e.MustRunStatus("revocations", "add-user", "-a", "A", "-n", "U")
	if !strings.Contains(out, "revoked user \""+u.Subject+"\"") {
		t.Errorf("add-user output:\n%s", out)
	}
	ac := account(t, e, "A")
	if !ac.IsClaimRevoked(u) {
		t.Error("U's JWT is not revoked")
	}
	if ac.IsClaimRevoked(user(t, e, "A", "V")) {
		t.Error("V is revoked too")
	}

	// --at as unix seconds; the snake_case alias works.
	v := user(t, e, "A", "V")
	past := v.IssuedAt - 100
	e.MustRun("revocations", "add_user", "-a", "A", "-u", v.Subject, "--at", strconv.FormatInt(past, 10))
	ac = account(t, e, "A")
	if got := ac.Revocations[v.Subject]; got != past {
		t.Errorf("revocation of V at %d, want %d", got, past)
	}
	if ac.IsClaimRevoked(v) {
		t.Error("a revocation before V's iat revokes V")
	}

	var rows []struct {
		PublicKey string `json:"public_key"`
		Name      string `json:"name"`
		RevokedAt int64  `json:"revoked_at"`
	}
	if err := json.Unmarshal([]byte(e.MustRun("revocations", "list-users", "-a", "A", "--json")), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("list-users: %+v", rows)
	}
	names := map[string]string{rows[0].PublicKey: rows[0].Name, rows[1].PublicKey: rows[1].Name}
	if names[u.Subject] != "U" || names[v.Subject] != "V" {
		t.Errorf("list-users names: %+v", rows)
	}
	if table := e.MustRun("revocations", "list-users", "-a", "A"); !strings.Contains(table, u.Subject) || !strings.Contains(table, "Revoked Users") {
		t.Errorf("list-users table:\n%s", table)
	}

	e.MustRun("revocations", "delete-user", "-a", "A", "-n", "U")
	if _, ok := account(t, e, "A").Revocations[u.Subject]; ok {
		t.Error("delete-user left the revocation")
	}
	if msg := e.MustFail("revocations", "delete-user", "-a", "A", "-n", "U"); !strings.Contains(msg, "not revoked") {
		t.Errorf("delete of missing revocation: %s", msg)
	}

	e.MustRun("revocations", "add-user", "-a", "A", "-u", "*")
	if _, ok := account(t, e, "A").Revocations[jwt.All]; !ok {
		t.Error("'*' revocation missing")
	}
	for _, bad := range [][]string{
		{"revocations", "add-user", "-a", "A"},
		{"revocations", "add-user", "-a", "A", "-u", "ABAD"},
		{"revocations", "add-user", "-a", "A", "-n", "nobody"},
		{"revocations", "add-user", "-a", "A", "-n", "U", "--at", "yesterday-ish"},
	} {
		e.MustFail(bad...)
	}
}

func TestDeleteUserRevokes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "user", "U", "-a", "A")
	u := user(t, e, "A", "U")
	e.MustRun("delete", "user", "U", "-a", "A")
	if !account(t, e, "A").IsClaimRevoked(u) {
		t.Error("delete user did not revoke")
	}
	if openStore(t, e).HasUser("A", "U") {
		t.Error("user not deleted")
	}
}

// addExport adds an export to account A directly in the store, signed by the operator key.
func addExport(t *testing.T, e *clitest.Env, s *store.Store, name string, ex *jwt.Export) {
	t.Helper()
	ac, _, err := s.Account(name)
	if err != nil {
		t.Fatal(err)
	}
	oc, _, err := s.Operator()
	if err != nil {
		t.Fatal(err)
	}
	kp, err := keystore.KeyStore{Dir: e.KeysDir()}.Get(oc.Subject)
	if err != nil {
		t.Fatal(err)
	}
	ac.Exports.Add(ex)
	tok, err := ac.Encode(kp)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveAccount(name, tok); err != nil {
		t.Fatal(err)
	}
}

func TestActivationRevocations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.MustRun("add", "account", "B")
	s := openStore(t, e)
	addExport(t, e, s, "A", &jwt.Export{Name: "svc", Subject: "svc.>", Type: jwt.Service, TokenReq: true})
	addExport(t, e, s, "A", &jwt.Export{Name: "feed", Subject: "feed.>", Type: jwt.Stream, TokenReq: true})
	b := account(t, e, "B")

	// By account name, then the stream needs no --service.
	e.MustRun("revocations", "add-activation", "-a", "A", "-s", "svc.>", "--service", "-t", "B")
	e.MustRun("revocations", "add_activation", "-a", "A", "-s", "feed.>", "-t", "*", "--at", "2020-01-01")
	ac := account(t, e, "A")
	for _, ex := range ac.Exports {
		switch ex.Subject {
		case "svc.>":
			if _, ok := ex.Revocations[b.Subject]; !ok {
				t.Errorf("service revocations: %v", ex.Revocations)
			}
		case "feed.>":
			if ts := ex.Revocations[jwt.All]; ts != time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix() {
				t.Errorf("stream revocation at %d", ts)
			}
		}
	}
	if msg := e.MustFail("revocations", "add-activation", "-a", "A", "-s", "svc.>", "-t", "B"); !strings.Contains(msg, "--service") {
		t.Errorf("kind mismatch: %s", msg)
	}
	out := e.MustRun("revocations", "list-activations", "-a", "A")
	if !strings.Contains(out, b.Subject) || !strings.Contains(out, "B") || !strings.Contains(out, "svc.>") {
		t.Errorf("list-activations:\n%s", out)
	}
	e.MustRun("revocations", "delete-activation", "-a", "A", "-s", "svc.>", "--service", "-t", b.Subject)
	for _, ex := range account(t, e, "A").Exports {
		if ex.Subject == "svc.>" && len(ex.Revocations) != 0 {
			t.Errorf("delete-activation left %v", ex.Revocations)
		}
	}
	akp, _ := nkeys.CreateAccount()
	other, _ := akp.PublicKey()
	if msg := e.MustFail("revocations", "delete-activation", "-a", "A", "-s", "svc.>", "--service", "-t", other); !strings.Contains(msg, "not revoked") {
		t.Errorf("delete missing: %s", msg)
	}
}
