package ops_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	gosync "sync"
	"testing"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/authz"
	"github.com/signet-dev/signet/ops"
)

// accountServer is a fake account server (/jwt/v1): it keeps what is posted, serves /pack, and
// refuses the accounts named in refuse.
type accountServer struct {
	mu     gosync.Mutex
	jwts   map[string]string
	refuse map[string]bool
}

func newAccountServer() (*accountServer, string, func()) {
	as := &accountServer{jwts: map[string]string{}, refuse: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /jwt/v1/accounts/{pub}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ac, err := jwt.DecodeAccountClaims(string(body))
		as.mu.Lock()
		defer as.mu.Unlock()
		switch {
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
		case as.refuse[ac.Name]:
			http.Error(w, "not today", http.StatusForbidden)
		default:
			as.jwts[r.PathValue("pub")] = string(body)
		}
	})
	mux.HandleFunc("GET /jwt/v1/pack", func(w http.ResponseWriter, _ *http.Request) {
		as.mu.Lock()
		defer as.mu.Unlock()
		for pub, tok := range as.jwts {
			fmt.Fprintf(w, "%s|%s\n", pub, tok)
		}
	})
	hs := httptest.NewServer(mux)
	return as, hs.URL + "/jwt/v1", hs.Close
}

// held is the JWT the server holds for pub, and how many it holds.
func (as *accountServer) held(pub string) (string, int) {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.jwts[pub], len(as.jwts)
}

// results maps account names to what became of them.
func results(rows []ops.PushRow) map[string]string {
	out := map[string]string{}
	for _, r := range rows {
		out[r.Name] = r.Result
	}
	return out
}

func TestPushToAnAccountServer(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	as, u, stop := newAccountServer()
	t.Cleanup(stop)
	if _, err := ops.AddAccount(fx.s, fx.ks, ops.AddAccountRequest{Name: "B"}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := ops.Push(ctx, fx.s, fx.ks, ops.PushRequest{All: true, URL: u})
	if err != nil {
		t.Fatal(err)
	}
	if got := results(res.Rows); res.Failed || res.Accounts != 2 || got["A"] != "pushed" || got["B"] != "pushed" {
		t.Errorf("push -A: failed %t, rows %v", res.Failed, got)
	}
	if _, n := as.held(""); n != 2 {
		t.Errorf("the server holds %d accounts, want 2", n)
	}
	// A local edit: the diff names A as an update and changes nothing on the server.
	if _, err := ops.EditAccount(fx.s, fx.ks, ops.EditAccountRequest{Account: "A", AccountSettings: ops.AccountSettings{Limits: authz.AccountLimitOptions{Conns: "5"}}}); err != nil {
		t.Fatal(err)
	}
	held, _ := as.held(fx.account(t, "A").Subject)
	res, err = ops.Push(ctx, fx.s, fx.ks, ops.PushRequest{Diff: true, URL: u})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]string{}
	for _, d := range res.Diff {
		actions[d.Name] = d.Action
	}
	if actions["A"] != "update" || actions["B"] != "same" || res.Rows != nil {
		t.Errorf("diff: %v", actions)
	}
	if now, _ := as.held(fx.account(t, "A").Subject); now != held {
		t.Error("the diff changed the server")
	}
	// One account, by name; a server that refuses it is a failed row, not an error.
	as.mu.Lock()
	as.refuse["A"] = true
	as.mu.Unlock()
	res, err = ops.Push(ctx, fx.s, fx.ks, ops.PushRequest{Account: "A", URL: u})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed || len(res.Rows) != 1 || res.Rows[0].Result != "failed: 403 not today" || res.HTTP[0].Err == nil {
		t.Errorf("refused push: %+v", res.Rows)
	}
}

func TestPushBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	fx := testFixture(t)
	as, u, stop := newAccountServer()
	t.Cleanup(stop)
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String() + "/jwt/v1"
	l.Close()
	before := fx.snapshot(t)
	for _, tc := range []struct {
		name string
		req  ops.PushRequest
		want string
	}{
		{"nothing named", ops.PushRequest{URL: u}, "give the account"},
		{"one and all", ops.PushRequest{Account: "A", All: true, URL: u}, "not both"},
		{"no such account", ops.PushRequest{Account: "B", URL: u}, "B"},
		{"no URL", ops.PushRequest{Account: "A"}, "no account server URL"},
		{"bad URL", ops.PushRequest{Account: "A", URL: "ftp://x"}, "want http(s)://"},
		{"removal over HTTP", ops.PushRequest{Remove: "A", URL: u}, "nats-server resolvers only"},
		{"removal and prune", ops.PushRequest{Remove: "A", Prune: true, URL: u}, "exclusive"},
	} {
		_, err := ops.Push(context.Background(), fx.s, fx.ks, tc.req)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	res, err := ops.Push(context.Background(), fx.s, fx.ks, ops.PushRequest{Account: "A", URL: dead})
	if err != nil || !res.Failed || !res.Refused {
		t.Errorf("push to a dead URL: %v, %+v", err, res)
	}
	fx.unchanged(t, "bad pushes", before)
	if _, n := as.held(""); n != 0 {
		t.Errorf("the server got %d accounts", n)
	}
}

// Push every account of the store to the operator's account server (here a stand-in).
func ExamplePush() {
	fx, done := exampleFixture()
	defer done()
	_, u, stop := newAccountServer()
	defer stop()
	if _, err := ops.AddAccount(fx.s, fx.ks, ops.AddAccountRequest{Name: "B"}); err != nil {
		fmt.Println(err)
		return
	}
	res, err := ops.Push(context.Background(), fx.s, fx.ks, ops.PushRequest{All: true, URL: u})
	if err != nil {
		fmt.Println(err)
		return
	}
	sort.Slice(res.Rows, func(i, j int) bool { return res.Rows[i].Name < res.Rows[j].Name })
	for _, r := range res.Rows {
		fmt.Println(r.Name, r.Result)
	}
	fmt.Println("failed:", res.Failed)
	// Output:
	// A pushed
	// B pushed
	// failed: false
}
