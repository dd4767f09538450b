package accountserver

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/jwtstore"
)

// TestListAndPackFilterByTheStoredIssuerWithoutDecodingJWTs: LIST ($SYS.REQ.CLAIMS.LIST, over
// a real nats-server) and GET /jwt/v1/pack leave out the JWTs whose issuer the operator does not
// trust by the issuer each store entry keeps, decoding no JWT: their allocations do not grow
// with the accounts (reading an issuer from a JWT is several allocations and about 5 µs, seconds
// for a million accounts). Not parallel: allocations are counted for the whole process.
func TestListAndPackFilterByTheStoredIssuerWithoutDecodingJWTs(t *testing.T) {
	const trusted, untrusted = 1000, 100
	o1 := natstest.NewOperator(t, "O1")
	o2 := natstest.NewOperator(t, "O2")
	ns := natstest.StartMemory(t, o1.Trust(), nil)
	sys := sysConn(t, ns, o1)
	accs := map[string]string{}
	var want []string
	for i := range trusted + untrusted {
		pub := fakeAccountKey(i)
		signer := o1
		if i >= trusted {
			signer = o2
		} else {
			want = append(want, pub)
		}
		tok, err := jwt.NewAccountClaims(pub).Encode(signer.KP)
		if err != nil {
			t.Fatal(err)
		}
		accs[pub] = tok
	}
	slices.Sort(want)
	for _, tc := range []struct {
		name  string
		store func(t *testing.T, cfg *Config)
	}{
		{"memory", func(_ *testing.T, cfg *Config) {
			for pub, tok := range accs {
				cfg.Backend.Put(pub, tok)
			}
		}},
		{"dir", func(t *testing.T, cfg *Config) {
			cfg.Backend, cfg.Store = nil, StoreConfig{Dir: t.TempDir()}
			for pub, tok := range accs {
				if err := os.WriteFile(filepath.Join(cfg.Store.Dir, pub+".jwt"), []byte(tok), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, o1)
			tc.store(t, &cfg)
			natsConfig(t, &cfg, o1, ns.ClientURL())
			s := startServer(t, cfg)
			waitConnected(t, s)
			list := func() []byte {
				msg, err := sys.Request("$SYS.REQ.CLAIMS.LIST", nil, 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				return msg.Data
			}
			// The first LIST reads the directory store's files.
			var resp struct {
				Data []string `json:"data"`
			}
			if err := json.Unmarshal(list(), &resp); err != nil {
				t.Fatal(err)
			}
			if slices.Sort(resp.Data); !slices.Equal(resp.Data, want) {
				t.Fatalf("LIST names %d accounts, want the %d O1 signed", len(resp.Data), trusted)
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/jwt/v1/pack", nil))
			if lines := strings.Count(rec.Body.String(), "\n"); lines != trusted {
				t.Fatalf("the pack holds %d lines, want the %d O1 signed", lines, trusted)
			}

			if a := testing.AllocsPerRun(5, func() { list() }); a > trusted/4 {
				t.Errorf("a LIST of %d accounts allocates %.0f objects: it decodes what it lists", trusted, a)
			}
			pack := httptest.NewRequest(http.MethodGet, "/jwt/v1/pack", nil)
			h := s.Handler()
			if a := testing.AllocsPerRun(5, func() { h.ServeHTTP(&discardWriter{h: http.Header{}}, pack) }); a > trusted/4 {
				t.Errorf("a pack of %d accounts allocates %.0f objects: it decodes what it packs", trusted, a)
			}
		})
	}
}

// storeHealth is what /healthz counts of the store.
func storeHealth(t testing.TB, s *Server) (accounts, unread int) {
	t.Helper()
	_, body := get(t, "http://"+s.HTTPAddr()+"/healthz")
	var h struct {
		Store struct {
			Accounts int `json:"accounts"`
			Unread   int `json:"unread"`
		} `json:"store"`
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("/healthz %q: %v", body, err)
	}
	return h.Store.Accounts, h.Store.Unread
}

// TestUnreadFilesOfAnUntrustedOperatorAreNotCountedAsServed: signet serve restarted on a
// directory store under another operator does not count the files it has not read yet as
// served (/healthz, /metrics, the start's log line); it reports them as unread (reading a million
// files to count them would take minutes) while it reads them in the background, then counts
// each where it belongs: not served, until a reload trusts its issuer again.
func TestUnreadFilesOfAnUntrustedOperatorAreNotCountedAsServed(t *testing.T) {
	t.Parallel()
	o1 := natstest.NewOperator(t, "O1")
	o2 := natstest.NewOperator(t, "O2")
	cfg := dirConfig(t, o1)
	s, stop := runServer(t, cfg)
	_, a, aTok := o1.Account(t, "A")
	_, b, bTok := o1.Account(t, "B")
	mustPost(t, s, a, aTok)
	mustPost(t, s, b, bTok)
	stop()

	var logs natstest.SyncBuffer
	s, err := New(trustingConfig(t, cfg, o2), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	want := func(when string, accounts, unread int) {
		t.Helper()
		if gotA, gotU := storeHealth(t, s); gotA != accounts || gotU != unread {
			t.Fatalf("%s: /healthz counts %d accounts served, %d unread; want %d, %d", when, gotA, gotU, accounts, unread)
		}
		_, body := get(t, "http://"+s.HTTPAddr()+"/metrics")
		if gotA, gotU := metricValue(body, "signet_store_accounts"), metricValue(body, "signet_store_accounts_unread"); gotA != float64(accounts) || gotU != float64(unread) {
			t.Fatalf("%s: /metrics counts %v accounts served, %v unread; want %d, %d", when, gotA, gotU, accounts, unread)
		}
	}
	if !strings.Contains(logLine(logs.String(), "account server is running"), "accounts=0 unread=2") {
		t.Fatalf("the start's log line counts O1's unread files as served:\n%s", logs.String())
	}
	// The files are read in the background after the start: once read, neither counts, as O2
	// does not trust O1, and the warning says so.
	waitFor(t, 10*time.Second, "the store's files to be read", func() bool { _, u := storeHealth(t, s); return u == 0 })
	want("files read", 0, 0)
	wantServed(t, s, a, "", "restarted trusting O2")
	if !strings.Contains(logLine(logs.String(), "operator does not trust"), "accounts=2 unread=0") {
		t.Fatalf("no warning that the store holds two accounts it does not serve:\n%s", logs.String())
	}
	mustReload(t, s, cfg)
	want("reloaded trusting O1", 2, 0)
	wantServed(t, s, b, bTok, "reloaded trusting O1")
}

// TestHealthCountsEveryAccountOfAReopenedFolder: a folder is opened without reading its files,
// then read in the background, so /healthz and /metrics come back to every account the store
// holds after a restart without a GET of each (a count that fell to zero at each restart would
// look like lost accounts to a monitor).
func TestHealthCountsEveryAccountOfAReopenedFolder(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	cfg := dirConfig(t, op)
	s, stop := runServer(t, cfg)
	for _, name := range []string{"A", "B", "C"} {
		_, pub, tok := op.Account(t, name)
		mustPost(t, s, pub, tok)
	}
	stop()
	s, _ = runServer(t, cfg)
	waitFor(t, 10*time.Second, "/healthz to count the three accounts", func() bool {
		a, u := storeHealth(t, s)
		return a == 3 && u == 0
	})
	_, body := get(t, "http://"+s.HTTPAddr()+"/metrics")
	if got := metricValue(body, "signet_store_accounts"); got != 3 {
		t.Fatalf("/metrics counts %v accounts, want 3", got)
	}
}

// TestServedReadsOfAStoreThatDoesNotRangeByIssuer: a Backend that only implements
// jwtstore.Store has each JWT decoded for its issuer: LIST and the pack still leave out what the
// operator does not trust, and the counts are its own.
func TestServedReadsOfAStoreThatDoesNotRangeByIssuer(t *testing.T) {
	t.Parallel()
	o1 := natstest.NewOperator(t, "O1")
	o2 := natstest.NewOperator(t, "O2")
	ns := natstest.StartMemory(t, o1.Trust(), nil)
	cfg := testConfig(t, o1)
	cfg.Backend = plainStore{jwtstore.NewMemory()}
	natsConfig(t, &cfg, o1, ns.ClientURL())
	_, a, aTok := o1.Account(t, "A")
	_, b, bTok := o2.Account(t, "B")
	cfg.Backend.Put(a, aTok)
	cfg.Backend.Put(b, bTok)
	s := startServer(t, cfg)
	waitConnected(t, s)
	if ids := listOverNATS(t, sysConn(t, ns, o1)); !slices.Equal(ids, []string{a}) {
		t.Fatalf("LIST names %v, want only A", ids)
	}
	if _, body := get(t, "http://"+s.HTTPAddr()+"/jwt/v1/pack"); body != a+"|"+aTok+"\n" {
		t.Fatalf("the pack holds %q, want only A", body)
	}
	if accounts, unread := storeHealth(t, s); accounts != 2 || unread != 0 {
		t.Fatalf("/healthz counts %d accounts, %d unread; want the store's 2, 0", accounts, unread)
	}
}

// plainStore hides every method of a store but jwtstore.Store's.
type plainStore struct{ jwtstore.Store }

// logLine is the last line of logs that holds msg.
func logLine(logs, msg string) string {
	var found string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, msg) {
			found = l
		}
	}
	return found
}
