package remote

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/natstest"
)

func TestOperatorJWTURLAcceptsAnAccountServerBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:9090/jwt/v1":           "http://127.0.0.1:9090/jwt/v1/operator",
		"http://127.0.0.1:9090/jwt/v1/":          "http://127.0.0.1:9090/jwt/v1/operator",
		"http://127.0.0.1:9090/jwt/v1/accounts/": "http://127.0.0.1:9090/jwt/v1/operator",
		"http://127.0.0.1:9090":                  "http://127.0.0.1:9090/jwt/v1/operator",
		"https://example.com/":                   "https://example.com/jwt/v1/operator",
		"https://example.com/prefix/jwt/v1?x=1":  "https://example.com/prefix/jwt/v1/operator?x=1",
		"http://127.0.0.1:9090/jwt/v1/operator":  "http://127.0.0.1:9090/jwt/v1/operator",
		"https://example.com/ops/O.jwt":          "https://example.com/ops/O.jwt",
	} {
		if got := OperatorJWTURL(in); got != want {
			t.Errorf("OperatorJWTURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFetchOperatorJWTFromTheBaseURLDevPrints(t *testing.T) {
	f, url := startFake(t) // url ends in /jwt/v1
	tok, oc, err := FetchOperatorJWT(context.Background(), nil, url)
	if err != nil {
		t.Fatal(err)
	}
	if tok != f.op.JWT || oc.Subject != f.op.Pub {
		t.Fatalf("fetched %s", oc.Subject)
	}
}

func TestFetchOperatorJWTSaysWhatItGotInstead(t *testing.T) {
	op := natstest.NewOperator(t, "O")
	mux := http.NewServeMux()
	mux.HandleFunc("/help.txt", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("signet account server\nGET /jwt/v1/operator\n"))
	})
	mux.HandleFunc("/sys.jwt", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(op.SysJWT)) })
	hs := httptest.NewServer(mux)
	defer hs.Close()

	_, _, err := FetchOperatorJWT(context.Background(), nil, hs.URL+"/help.txt")
	want := "fetch operator JWT from " + hs.URL + "/help.txt: not an operator JWT: the server sent text/plain; charset=utf-8 (43 bytes) starting \"signet account server\""
	if err == nil || err.Error() != want {
		t.Fatalf("fetching a text page:\n got %v\nwant %s", err, want)
	}
	_, _, err = FetchOperatorJWT(context.Background(), nil, hs.URL+"/sys.jwt")
	if err == nil || !strings.Contains(err.Error(), `a JWT of type "account" for `+op.SysPub) {
		t.Fatalf("fetching an account JWT: %v", err)
	}
	if n := strings.Count(err.Error(), hs.URL); n != 1 {
		t.Fatalf("the URL is named %d times: %v", n, err)
	}
}

func TestFetchOperatorJWTNamesTheURLOnceWhenRefused(t *testing.T) {
	hs := httptest.NewServer(http.NotFoundHandler())
	url := hs.URL + "/jwt/v1"
	hs.Close()
	_, _, err := FetchOperatorJWT(context.Background(), nil, url)
	if err == nil || strings.Count(err.Error(), url) != 1 || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("fetch from a closed server: %v", err)
	}
}
