package accountserver

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/signet-dev/signet/internal/natstest"
	"github.com/signet-dev/signet/jwtstore"
)

// testLogger writes to the test log only when -v is given, keeping failures readable.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// testConfig is a server for op on a random port with a memory store.
func testConfig(t testing.TB, op *natstest.Operator) Config {
	t.Helper()
	sysPath := filepath.Join(t.TempDir(), "SYS.jwt")
	if err := os.WriteFile(sysPath, []byte(op.SysJWT), 0o644); err != nil {
		t.Fatal(err)
	}
	return Config{
		OperatorJWT:          op.JWT,
		SystemAccountJWTPath: sysPath,
		HTTP:                 HTTPConfig{Port: -1},
		Backend:              jwtstore.NewMemory(),
	}
}

// startServer starts an account server and stops it when the test ends.
func startServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	return startLogging(t, cfg, testLogger(t))
}

// startLogging is startServer with the server's logs going to logger.
func startLogging(t testing.TB, cfg Config, logger *slog.Logger) *Server {
	t.Helper()
	s, err := New(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

func accountsURL(s *Server, pub string) string { return s.ResolverURL() + pub }

func post(t testing.TB, s *Server, pub, body string) (int, string) {
	t.Helper()
	return request(t, http.MethodPost, accountsURL(s, pub), body)
}

// request sends one HTTP request and returns the status and body of the answer.
func request(t testing.TB, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func mustPost(t testing.TB, s *Server, pub, token string) {
	t.Helper()
	if code, body := post(t, s, pub, token); code != http.StatusOK {
		t.Fatalf("POST %s: %d %s", pub, code, body)
	}
}

// freePort reserves a port for a NATS server that must start after the account server knows
// its address.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func listenExtra(port int) string { return "listen: \"127.0.0.1:" + strconv.Itoa(port) + "\"\n" }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// deleteRequest builds an operator-signed delete request like nsc's.
func deleteRequest(t testing.TB, kp nkeys.KeyPair, exp time.Duration, accounts ...string) string {
	t.Helper()
	pub, _ := kp.PublicKey()
	gc := jwt.NewGenericClaims(pub)
	gc.Data["accounts"] = accounts
	if exp != 0 {
		gc.Expires = time.Now().Add(exp).Unix()
	}
	tok, err := gc.Encode(kp)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
