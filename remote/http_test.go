package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/signet-dev/signet/internal/natstest"
)

// fakeAccountServer is a minimal /jwt/v1 account server: it stores what it is given, answers
// 202 for accounts named "pending", refuses accounts named "refused" with a reason, and checks
// delete requests the way nats-server does (plus exp).
type fakeAccountServer struct {
	op       *natstest.Operator
	mu       sync.Mutex
	accounts map[string]string
	ctypes   []string
}

func (f *fakeAccountServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.URL.Path == "/jwt/v1/operator" && r.Method == http.MethodGet:
		_, _ = io.WriteString(w, f.op.JWT)
	case r.URL.Path == "/jwt/v1/pack" && r.Method == http.MethodGet:
		for pub, tok := range f.accounts {
			fmt.Fprintf(w, "%s|%s\n", pub, tok)
		}
	case strings.HasPrefix(r.URL.Path, "/jwt/v1/accounts/"):
		pub := strings.TrimPrefix(r.URL.Path, "/jwt/v1/accounts/")
		f.account(w, r, pub)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeAccountServer) account(w http.ResponseWriter, r *http.Request, pub string) {
	body, _ := io.ReadAll(r.Body)
	switch r.Method {
	case http.MethodGet:
		tok, ok := f.accounts[pub]
		if !ok {
			http.Error(w, "account not found", http.StatusNotFound)
			return
		}
		_, _ = io.WriteString(w, tok)
	case http.MethodPost:
		f.ctypes = append(f.ctypes, r.Header.Get("Content-Type"))
		ac, err := jwt.DecodeAccountClaims(string(body))
		if err != nil || ac.Subject != pub {
			http.Error(w, "bad account jwt", http.StatusBadRequest)
			return
		}
		switch ac.Name {
		case "refused":
			http.Error(w, "account limits exceed what the operator allows\nmore detail", http.StatusForbidden)
			return
		case "pending":
			f.accounts[pub] = string(body)
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, "waiting for approval")
			return
		}
		// Re-sign with the operator key, like a managed operator's server.
		signed, err := ac.Encode(f.op.KP)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		f.accounts[pub] = signed
	case http.MethodDelete:
		gc, err := jwt.DecodeGeneric(string(body))
		if err != nil || gc.Issuer != gc.Subject || gc.Issuer != f.op.Pub {
			http.Error(w, "delete request not signed by the operator", http.StatusUnauthorized)
			return
		}
		if gc.Expires == 0 || gc.Expires < time.Now().Unix() {
			http.Error(w, "delete request expired", http.StatusUnauthorized)
			return
		}
		list, _ := gc.Data["accounts"].([]any)
		if len(list) != 1 || list[0] != pub {
			http.Error(w, "delete request is for other accounts", http.StatusBadRequest)
			return
		}
		delete(f.accounts, pub)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func startFake(t *testing.T) (*fakeAccountServer, string) {
	op := natstest.NewOperator(t, "O")
	f := &fakeAccountServer{op: op, accounts: map[string]string{}}
	hs := httptest.NewServer(f)
	t.Cleanup(hs.Close)
	return f, hs.URL + "/jwt/v1"
}

// selfSigned makes an account JWT signed by its own key, as a managed-operator client pushes.
func selfSigned(t *testing.T, name string) (string, string) {
	t.Helper()
	_, pub, tok := natstest.SelfSignedAccount(t, name)
	return pub, tok
}

func TestPushPullHTTP(t *testing.T) {
	f, url := startFake(t)
	ctx := context.Background()
	pub, tok := selfSigned(t, "A")
	res, err := PushHTTP(ctx, nil, url, tok)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusOK || res.Pending {
		t.Fatalf("push result %+v", res)
	}
	if len(f.ctypes) != 1 || f.ctypes[0] != "application/jwt" {
		t.Fatalf("content types sent: %v", f.ctypes)
	}
	signed, err := PullHTTP(ctx, nil, url, pub)
	if err != nil {
		t.Fatal(err)
	}
	ac, err := jwt.DecodeAccountClaims(signed)
	if err != nil || ac.Issuer != f.op.Pub {
		t.Fatalf("pulled JWT issuer %v, err %v; want the operator", ac, err)
	}
	// A URL in the form nats-server's URL resolver uses works too.
	if _, err := PullHTTP(ctx, nil, url+"/accounts/", pub); err != nil {
		t.Fatalf("pull with .../accounts/ URL: %v", err)
	}
}

func TestPushHTTPPendingAndRefused(t *testing.T) {
	_, url := startFake(t)
	ctx := context.Background()
	_, tok := selfSigned(t, "pending")
	res, err := PushHTTP(ctx, nil, url, tok)
	if err != nil || !res.Pending || res.Status != http.StatusAccepted || res.Message != "waiting for approval" {
		t.Fatalf("pending push: %+v, %v", res, err)
	}
	_, tok = selfSigned(t, "refused")
	res, err = PushHTTP(ctx, nil, url, tok)
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusForbidden {
		t.Fatalf("refused push: err %v", err)
	}
	if he.Reason != "account limits exceed what the operator allows" || res.Status != http.StatusForbidden {
		t.Fatalf("refusal reason %q, status %d", he.Reason, res.Status)
	}
	if !strings.Contains(err.Error(), "account limits exceed") {
		t.Fatalf("error does not carry the reason: %v", err)
	}
	if _, err := PushHTTP(ctx, nil, url, "garbage"); err == nil {
		t.Fatal("push of garbage did not fail locally")
	}
}

func TestPullHTTPNotFound(t *testing.T) {
	_, url := startFake(t)
	pub, _ := selfSigned(t, "A")
	if _, err := PullHTTP(context.Background(), nil, url, pub); !errors.Is(err, ErrNotFound) {
		t.Fatalf("pull of unknown account: %v, want ErrNotFound", err)
	}
}

func TestPackAndDeleteHTTP(t *testing.T) {
	f, url := startFake(t)
	ctx := context.Background()
	var pubs []string
	for i := range 5 {
		pub, tok := selfSigned(t, fmt.Sprintf("A%d", i))
		if _, err := PushHTTP(ctx, nil, url, tok); err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, pub)
	}
	all, err := PackHTTP(ctx, nil, url)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 {
		t.Fatalf("pack returned %d accounts", len(all))
	}
	for _, p := range pubs {
		if all[p] == "" {
			t.Fatalf("pack lacks %s", p)
		}
	}
	if err := DeleteHTTP(ctx, nil, url, f.op.KP, pubs[:2]); err != nil {
		t.Fatal(err)
	}
	all, err = PackHTTP(ctx, nil, url)
	if err != nil || len(all) != 3 || all[pubs[0]] != "" {
		t.Fatalf("after delete: %d accounts, err %v", len(all), err)
	}
	// Someone else's operator key is refused, with the reason.
	other, _ := nkeys.CreateOperator()
	err = DeleteHTTP(ctx, nil, url, other, pubs[2:3])
	if err == nil || !strings.Contains(err.Error(), "not signed by the operator") {
		t.Fatalf("delete with a foreign key: %v", err)
	}
}

func TestFetchOperatorJWT(t *testing.T) {
	f, url := startFake(t)
	tok, oc, err := FetchOperatorJWT(context.Background(), nil, url+"/operator")
	if err != nil {
		t.Fatal(err)
	}
	if tok != f.op.JWT || oc.Subject != f.op.Pub {
		t.Fatalf("fetched %s", oc.Subject)
	}
	if _, _, err := FetchOperatorJWT(context.Background(), nil, url+"/nothing"); err == nil {
		t.Fatal("fetch from a 404 did not fail")
	}
}

func TestDeleteRequestClaims(t *testing.T) {
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	pub, _ := selfSigned(t, "A")
	req, err := DeleteRequest(okp, []string{pub})
	if err != nil {
		t.Fatal(err)
	}
	gc, err := jwt.DecodeGeneric(req)
	if err != nil {
		t.Fatal(err)
	}
	if gc.Subject != opub || gc.Issuer != opub {
		t.Fatalf("sub %s iss %s, want %s", gc.Subject, gc.Issuer, opub)
	}
	if gc.Expires <= time.Now().Unix() || gc.Expires > time.Now().Add(DeleteRequestTTL+time.Minute).Unix() {
		t.Fatalf("exp %d not a short window", gc.Expires)
	}
	if _, err := DeleteRequest(okp, []string{"nope"}); err == nil {
		t.Fatal("delete request for a bad key accepted")
	}
	akp, _ := nkeys.CreateAccount()
	if _, err := DeleteRequest(akp, []string{pub}); err == nil {
		t.Fatal("delete request signed by an account key accepted")
	}
}
