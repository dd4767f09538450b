package accountserver

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/signet-dev/signet/internal/natstest"
)

// fuzzSeeds are JWTs of every kind the trust check must tell apart.
func fuzzSeeds(t testing.TB, op *natstest.Operator) (pub string, seeds []string) {
	other := natstest.NewOperator(t, "X")
	akp, pub, good := op.Account(t, "A")
	self, _ := jwt.NewAccountClaims(pub).Encode(akp)
	foreign, _ := jwt.NewAccountClaims(pub).Encode(other.KP)
	_, _, otherAcct := op.Account(t, "B")
	user, _ := op.User(t, akp, "u")
	return pub, []string{good, self, foreign, otherAcct, user, op.JWT, "", "garbage", "a.b.c",
		good[:len(good)/2], strings.Replace(good, ".", "..", 1), good + "x"}
}

// assertTrusted fails if the store holds anything VerifyAccountJWT refuses.
func assertTrusted(t *testing.T, s *Server) {
	op := s.trust.Load().op
	s.store.Range(func(pub, token string) bool {
		if _, err := VerifyAccountJWT(op, token, pub); err != nil {
			t.Fatalf("store holds an untrusted jwt for %s: %v", pub, err)
		}
		return true
	})
}

func fuzzServer(t testing.TB) (*Server, *natstest.Operator) {
	op := natstest.NewOperator(t, "O")
	s, err := New(testConfig(t, op), slog.New(slog.DiscardHandler)) // f.Log is off limits in fuzz targets
	if err != nil {
		t.Fatal(err)
	}
	return s, op
}

func FuzzPost(f *testing.F) {
	s, op := fuzzServer(f)
	pub, seeds := fuzzSeeds(f, op)
	for _, sd := range seeds {
		f.Add(pub, []byte(sd))
	}
	f.Add("nonsense", []byte("x"))
	h := s.Handler()
	f.Fuzz(func(t *testing.T, key string, body []byte) { fuzzPostOne(t, s, h, key, body) })
}

func fuzzPostOne(t *testing.T, s *Server, h http.Handler, key string, body []byte) {
	req := httptest.NewRequest(http.MethodPost, "/jwt/v1/accounts/x", strings.NewReader(string(body)))
	req.SetPathValue("pub", key)
	// Route through the mux when the key makes a valid path, else call the handler directly.
	rec := httptest.NewRecorder()
	if strings.ContainsAny(key, "/?#% \t\r\n") || key == "" {
		s.handlePost(rec, req)
	} else {
		req.URL.Path = "/jwt/v1/accounts/" + key
		h.ServeHTTP(rec, req)
	}
	if rec.Code == http.StatusOK {
		if got, err := s.store.Get(key); err != nil || got != strings.TrimSpace(string(body)) {
			// An accepted POST must have stored exactly what was sent (or it was unchanged).
			if err != nil {
				t.Fatalf("200 but nothing stored for %q: %v", key, err)
			}
		}
	}
	assertTrusted(t, s)
}

func FuzzClaimsUpdate(f *testing.F) {
	s, op := fuzzServer(f)
	pub, seeds := fuzzSeeds(f, op)
	for _, sd := range seeds {
		f.Add(pub, []byte(sd))
		f.Add(pub, []byte(pub+"|"+sd))
	}
	p := &natsPeer{s: s}
	f.Fuzz(func(t *testing.T, key string, data []byte) {
		p.onClaimsUpdate(&nats.Msg{Subject: subjClaims, Data: data})
		p.onAccountUpdate(&nats.Msg{Subject: fmt.Sprintf(subjUpdateNew, key), Data: data})
		p.onAccountUpdate(&nats.Msg{Subject: fmt.Sprintf(subjUpdateOld, key), Data: data})
		p.onPackReply(&nats.Msg{Data: data})
		p.onDelete(&nats.Msg{Subject: subjDelete, Data: data})
		assertTrusted(t, s)
	})
}
