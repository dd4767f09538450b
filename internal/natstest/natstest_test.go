package natstest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
)

func connectSys(t *testing.T, s *Server, op *Operator) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), op.SysUserOption())
	if err != nil {
		t.Fatalf("connect as system user: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func TestMemoryResolverPreload(t *testing.T) {
	op := NewOperator(t, "O")
	akp, apub, ajwt := op.Account(t, "A")
	s := StartMemory(t, op.Trust(), map[string]string{apub: ajwt})
	ujwt, useed := op.User(t, akp, "u")
	nc, err := nats.Connect(s.ClientURL(), nats.UserJWTAndSeed(ujwt, string(useed)))
	if err != nil {
		t.Fatalf("user of preloaded account cannot connect: %v", err)
	}
	nc.Close()
	connectSys(t, s, op)
}

func TestFullResolverWritesDir(t *testing.T) {
	op := NewOperator(t, "O")
	s := StartFull(t, op.Trust())
	nc := connectSys(t, s, op)
	_, apub, ajwt := op.Account(t, "A")
	msg, err := nc.Request("$SYS.REQ.CLAIMS.UPDATE", []byte(ajwt), 5*time.Second)
	if err != nil {
		t.Fatalf("claims update: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, apub+".jwt")); err != nil {
		t.Fatalf("account not in resolver dir after update (reply %s): %v", msg.Data, err)
	}
}

func TestCacheResolverStarts(t *testing.T) {
	op := NewOperator(t, "O")
	s := StartCache(t, op.Trust())
	connectSys(t, s, op)
	if s.Dir == "" {
		t.Fatal("cache server has no dir")
	}
}

func TestClusterRoutes(t *testing.T) {
	op := NewOperator(t, "O")
	servers := StartCluster(t, 3, op.Trust())
	if len(servers) != 3 {
		t.Fatalf("got %d servers", len(servers))
	}
	nc := connectSys(t, servers[0], op)
	sub, err := nc.SubscribeSync(nats.NewInbox())
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishRequest("$SYS.REQ.SERVER.PING", sub.Subject, nil); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for len(names) < 3 {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("ping answered by %d servers: %v", len(names), err)
		}
		var pong struct {
			Server struct {
				Name string `json:"name"`
			} `json:"server"`
		}
		if err := json.Unmarshal(m.Data, &pong); err != nil {
			t.Fatalf("ping reply: %v", err)
		}
		names[pong.Server.Name] = true
	}
}

func TestOperatorAccountServerURL(t *testing.T) {
	op := NewOperator(t, "O", WithAccountServerURL("http://127.0.0.1:1/jwt/v1"))
	oc, err := jwt.DecodeOperatorClaims(op.JWT)
	if err != nil {
		t.Fatal(err)
	}
	if oc.AccountServerURL != "http://127.0.0.1:1/jwt/v1" || oc.SystemAccount != op.SysPub {
		t.Fatalf("operator claims: url %q sys %q", oc.AccountServerURL, oc.SystemAccount)
	}
	p := op.SysCredsFile(t)
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("creds file %v mode %v", err, fi)
	}
}

func TestURLResolver(t *testing.T) {
	op := NewOperator(t, "O")
	akp, apub, ajwt := op.Account(t, "A")
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch strings.TrimPrefix(r.URL.Path, "/jwt/v1/accounts/") {
		case "":
		case apub:
			_, _ = w.Write([]byte(ajwt))
		case op.SysPub:
			_, _ = w.Write([]byte(op.SysJWT))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(hs.Close)
	s := StartURL(t, op.Trust(), hs.URL+"/jwt/v1/accounts/")
	ujwt, useed := op.User(t, akp, "u")
	nc, err := nats.Connect(s.ClientURL(), nats.UserJWTAndSeed(ujwt, string(useed)))
	if err != nil {
		t.Fatalf("user of account served over HTTP cannot connect: %v", err)
	}
	nc.Close()
}

func TestSelfSignedAccount(t *testing.T) {
	_, pub, tok := SelfSignedAccount(t, "A")
	ac, err := jwt.DecodeAccountClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	if ac.Issuer != pub || ac.Subject != pub || ac.Name != "A" {
		t.Fatalf("claims iss %s sub %s name %s", ac.Issuer, ac.Subject, ac.Name)
	}
}
