package sync_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
	"github.com/signet-dev/signet/internal/natstest"
)

// TestRefusedOperatorURLSuggestsSignetDev: with the operator pointing at a dev server that is
// not running, the automatic push, push and pull name the URL and suggest `signet dev`.
func TestRefusedOperatorURLSuggestsSignetDev(t *testing.T) {
	t.Parallel()
	e := clitest.New(t, cli.NewRootCmd)
	e.MustRun("init", "-n", "O")
	dead := fmt.Sprintf("http://127.0.0.1:%d/jwt/v1", freePort(t))
	e.MustRun("edit", "operator", "--account-jwt-server-url", dead, "--auto-push")
	hint := "nothing is listening at " + dead + ": start `signet dev`"

	if r := e.Run("add", "account", "A"); r.Error != nil || !strings.Contains(r.Err, "[WARN] account \"A\" was saved but not pushed: "+hint) {
		t.Fatalf("add account with the account server down: %v\n%s", r.Error, r.Err)
	}
	r := e.Run("push", "-a", "A")
	if r.Error == nil || strings.Count(r.Err, hint) != 1 {
		t.Fatalf("push with the account server down: %v\n%s", r.Error, r.Err)
	}
	if msg := e.MustFail("pull", "-a", "A"); !strings.Contains(msg, hint) {
		t.Fatalf("pull with the account server down: %s", msg)
	}
	if msg := e.MustFail("pull", "-A"); !strings.Contains(msg, hint) {
		t.Fatalf("pull -A with the account server down: %s", msg)
	}
	if msg := e.MustFail("push", "-A", "--diff"); !strings.Contains(msg, hint) {
		t.Fatalf("push --diff with the account server down: %s", msg)
	}
}

// TestAddOperatorFromTheURLDevPrints: `add operator -u http://host/jwt/v1` (what signet dev
// prints as its account server) fetches <url>/operator; a URL that serves something else is
// refused once, saying what came back.
func TestAddOperatorFromTheURLDevPrints(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "remote-op")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwt/v1/operator", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(op.JWT)) })
	mux.HandleFunc("GET /jwt/v1/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("signet account server (nats-account-server compatible /jwt/v1 API)\n"))
	})
	hs := httptest.NewServer(mux)
	defer hs.Close()

	e := clitest.New(t, cli.NewRootCmd)
	if st := e.MustRunStatus("add", "operator", "-u", hs.URL+"/jwt/v1"); !strings.Contains(st, `imported managed operator "remote-op"`) {
		t.Fatalf("add operator -u <base URL>:\n%s", st)
	}
	msg := e.MustFail("add", "operator", "-u", hs.URL+"/jwt/v1/help", "-n", "other")
	if strings.Count(msg, hs.URL) != 1 || strings.Count(msg, "fetch operator") != 1 ||
		!strings.Contains(msg, `not an operator JWT: the server sent text/plain; charset=utf-8`) ||
		!strings.Contains(msg, `"signet account server`) {
		t.Fatalf("add operator -u <help page>: %s", msg)
	}
}
