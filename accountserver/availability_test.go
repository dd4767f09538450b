package accountserver

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/natstest"
)

// A NATS outage does not fail liveness: HTTP still serves JWTs, which is what a URL resolver
// needs during that outage. The outage shows in the body, in /metrics, and in /readyz?nats=1.
func TestHealthzStaysUpWhileNATSIsAway(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	away := "nats://" + l.Addr().String()
	l.Close()
	cfg := testConfig(t, op)
	natsConfig(t, &cfg, op, away)
	s := startServer(t, cfg)
	_, pub, tok := op.Account(t, "A")
	mustPost(t, s, pub, tok)
	base := "http://" + s.HTTPAddr()
	resp, body := get(t, base+"/healthz")
	var h health
	if err := json.Unmarshal([]byte(body), &h); err != nil || resp.StatusCode != http.StatusOK || h.Status != "ok" {
		t.Fatalf("healthz while NATS is away: %d %s", resp.StatusCode, body)
	}
	if !h.NATS.Configured || h.NATS.Connected {
		t.Errorf("healthz body does not report NATS as configured and away: %s", body)
	}
	if resp, body := get(t, base+"/readyz"); resp.StatusCode != http.StatusOK {
		t.Errorf("readyz: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, base+"/readyz?nats=1"); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"connected":false`) {
		t.Errorf("readyz?nats=1 while NATS is away: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, accountsURL(s, pub)); resp.StatusCode != http.StatusOK || body != tok {
		t.Errorf("GET of a stored JWT while NATS is away: %d", resp.StatusCode)
	}
	_, metrics := get(t, base+"/metrics")
	for _, want := range []string{"signet_nats_connected 0", "go_goroutines ", "go_memstats_heap_alloc_bytes ", "process_open_fds "} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// With nothing configured, a client that sends its request body slowly, and clients that keep
// connections open and idle, are cut off within about the defaults (10 s each), and the slow
// POST stores nothing.
func TestDefaultTimeoutsCutOffSlowAndIdleClients(t *testing.T) {
	t.Parallel()
	op := natstest.NewOperator(t, "O")
	cfg := testConfig(t, op)
	s := startServer(t, cfg)
	_, pub, tok := op.Account(t, "A")
	addr := s.HTTPAddr()
	deadline := DefaultReadTimeout + DefaultIdleTimeout + 5*time.Second

	// Slow: headers and half the body, then nothing.
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "POST /jwt/v1/accounts/%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", pub, len(tok), tok[:len(tok)/2])

	// Idle: one request answered on each, then the connection is kept open.
	var idle []net.Conn
	for range 20 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /jwt/v1/help HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		idle = append(idle, &bufConn{Conn: c, r: br})
	}

	closed := func(c net.Conn) error {
		c.SetReadDeadline(time.Now().Add(deadline))
		_, err := io.ReadAll(c) // returns at EOF (the server closed), or with the deadline error
		return err
	}
	if err := closed(slow); err != nil {
		t.Errorf("slow POST not cut off within %s: %v", deadline, err)
	}
	for i, c := range idle {
		if err := closed(c); err != nil {
			t.Errorf("idle connection %d not closed within %s: %v", i, deadline, err)
		}
	}
	if resp, _ := get(t, accountsURL(s, pub)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the cut-off POST stored something: GET answered %d", resp.StatusCode)
	}
}

// bufConn reads through the buffered reader that already holds bytes of the connection.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }
