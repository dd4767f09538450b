package accountserver

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

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
	now := time.Now()
	newer := encodeWithIAT(t, jwt.NewAccountClaims(pub), op.KP, now.Add(2*time.Second).Unix())
	older := encodeWithIAT(t, jwt.NewAccountClaims(pub), op.KP, now.Add(-time.Hour).Unix())
	farAhead := encodeWithIAT(t, jwt.NewAccountClaims(pub), op.KP, now.Add(time.Hour).Unix())
	expired := encodeWithIAT(t, func() *jwt.AccountClaims {
		ac := jwt.NewAccountClaims(pub)
		ac.Expires = now.Add(-time.Minute).Unix()
		return ac
	}(), op.KP, now.Add(3*time.Second).Unix())
	return pub, []string{good, " " + good + "\n", self, foreign, otherAcct, user, op.JWT, "", "garbage", "a.b.c",
		good[:len(good)/2], strings.Replace(good, ".", "..", 1), good + "x", newer, older, newer, farAhead, expired}
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
	before := snapshot(s)
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
	after := snapshot(s)
	posted := strings.TrimSpace(string(body))
	reply := rec.Body.String()
	switch {
	case rec.Code != http.StatusOK:
		// A refusal leaves the store exactly as it was.
		if diff := storeDiff(before, after); diff != "" {
			t.Fatalf("POST %q refused with %d (%q) but the store changed: %s", key, rec.Code, reply, diff)
		}
	case reply == fmt.Sprintf("account %s unchanged\n", key):
		// Unchanged: the store already held exactly this JWT and still does, and nothing else moved.
		if diff := storeDiff(before, after); diff != "" {
			t.Fatalf("POST %q answered unchanged but the store changed: %s", key, diff)
		}
		if before[key] != posted {
			t.Fatalf("POST %q answered unchanged but the store held another jwt", key)
		}
	case reply == fmt.Sprintf("account %s updated\n", key):
		// Accepted: the store holds exactly the posted JWT under the posted key, the JWT is trusted
		// for that key, and no other account moved.
		if after[key] != posted {
			t.Fatalf("POST %q answered 200 %q but the store holds %q, not the posted jwt", key, reply, after[key])
		}
		if _, err := VerifyAccountJWT(s.trust.Load().op, posted, key); err != nil {
			t.Fatalf("POST %q answered 200 for a jwt the trust check refuses: %v", key, err)
		}
		delete(before, key)
		delete(after, key)
		if diff := storeDiff(before, after); diff != "" {
			t.Fatalf("POST %q changed other accounts: %s", key, diff)
		}
	default:
		t.Fatalf("POST %q answered 200 with an unexpected reply %q", key, reply)
	}
	assertTrusted(t, s)
}

// snapshot copies the store's contents (account key -> JWT).
func snapshot(s *Server) map[string]string {
	m := map[string]string{}
	s.store.Range(func(pub, token string) bool { m[pub] = token; return true })
	return m
}

// storeDiff describes how two snapshots differ, "" when they are equal.
func storeDiff(before, after map[string]string) string {
	var d []string
	for k, v := range before {
		if w, ok := after[k]; !ok {
			d = append(d, "removed "+k)
		} else if w != v {
			d = append(d, "replaced "+k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			d = append(d, "added "+k)
		}
	}
	sort.Strings(d)
	return strings.Join(d, ", ")
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
