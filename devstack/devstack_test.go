package devstack

import (
	"context"
	"errors"
	"fmt"
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

	"github.com/signet-dev/signet/internal/natstest"
)

func TestFreePortFallsBackWhenTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	got, err := FreePort("127.0.0.1", taken)
	if err != nil {
		t.Fatal(err)
	}
	if got == taken || got == 0 {
		t.Fatalf("FreePort(%d) with the port taken returned %d", taken, got)
	}
	l2, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(got)))
	if err != nil {
		t.Fatalf("returned port %d is not free: %v", got, err)
	}
	l2.Close()
}

func TestPortsRefuseSamePort(t *testing.T) {
	if _, _, err := Ports("127.0.0.1", 5555, 5555); err == nil {
		t.Fatal("the same port for NATS and HTTP was accepted")
	}
}

func TestStartRefusesBadConfig(t *testing.T) {
	if _, err := Start(Config{OperatorJWT: "garbage", NATSPort: 1, HTTPPort: 2}); err == nil {
		t.Fatal("a garbage operator JWT was accepted")
	}
	if _, err := Start(Config{}); err == nil {
		t.Fatal("an empty config was accepted")
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	p, err := FreePort("127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func startStack(t *testing.T, op *natstest.Operator, logs io.Writer) *Stack {
	t.Helper()
	st, err := Start(Config{
		OperatorJWT:      op.JWT,
		SystemAccountJWT: op.SysJWT,
		SystemUserCreds:  op.SysCredsFile(t),
		Dir:              t.TempDir(),
		NATSPort:         freePort(t),
		HTTPPort:         freePort(t),
		Logger:           slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStartAndStopLogNoWarning(t *testing.T) {
	op := natstest.NewOperator(t, "dev")
	logs := &natstest.SyncBuffer{}
	st := startStack(t, op, logs)
	// Start returns with the account server's NATS connection up: /healthz says so at once.
	resp, err := http.Get("http://" + st.Accounts.HTTPAddr() + "/readyz?nats=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"connected":true`) {
		t.Fatalf("readyz?nats=1 right after Start: %d %s", resp.StatusCode, body)
	}
	if err := st.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if logs.String() != "" {
		t.Fatalf("a clean start and stop logged:\n%s", logs.String())
	}
}

func TestStartRefusesTakenPortsBeforeStartingAnything(t *testing.T) {
	op := natstest.NewOperator(t, "dev")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	httpPort := freePort(t)
	began := time.Now()
	_, err = Start(Config{OperatorJWT: op.JWT, SystemAccountJWT: op.SysJWT, Dir: t.TempDir(), NATSPort: taken, HTTPPort: httpPort})
	var pe *PortError
	if !errors.As(err, &pe) || pe.What != "NATS" || !strings.Contains(err.Error(), "address in use") {
		t.Fatalf("Start with the NATS port taken: %v", err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Fatalf("Start took %s to report a taken NATS port", d)
	}
	// Nothing listens on the HTTP port it was given.
	if err := CheckPorts("127.0.0.1", freePort(t), httpPort); err != nil {
		t.Fatalf("the HTTP port is held after a failed start: %v", err)
	}
	if err := CheckPorts("127.0.0.1", httpPort, taken); err == nil || !strings.Contains(err.Error(), "HTTP port") {
		t.Fatalf("CheckPorts with the HTTP port taken: %v", err)
	}
}

func TestSetOperatorServesTheNewJWT(t *testing.T) {
	op := natstest.NewOperator(t, "dev")
	st := startStack(t, op, io.Discard)
	defer st.Shutdown(context.Background())
	oc, err := jwt.DecodeOperatorClaims(op.JWT)
	if err != nil {
		t.Fatal(err)
	}
	oc.AccountServerURL = st.AccountServerURL()
	next, err := oc.Encode(op.KP)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetOperator(next); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(st.AccountServerURL() + "/operator")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(body)) != next {
		t.Fatalf("/jwt/v1/operator serves the old operator JWT after SetOperator")
	}
	other := natstest.NewOperator(t, "other")
	if err := st.SetOperator(other.JWT); err == nil {
		t.Fatal("SetOperator accepted another operator's JWT")
	}
}

func TestSecondGuardForTheSameOperatorIsRefusedWithTheFirstsURLs(t *testing.T) {
	dir := t.TempDir()
	g, err := Acquire(dir, "dev")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(dir, "dev")
	var re *RunningError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d, still starting", os.Getpid())) {
		t.Fatalf("second Acquire while the first starts: %v", err)
	}
	if err := g.Running("nats://127.0.0.1:4222", "http://127.0.0.1:9090/jwt/v1"); err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(dir, "dev")
	want := fmt.Sprintf("signet dev is already running for operator dev (pid %d, nats://127.0.0.1:4222, http://127.0.0.1:9090/jwt/v1)", os.Getpid())
	if err == nil || err.Error() != want {
		t.Fatalf("second Acquire:\n got %v\nwant %s", err, want)
	}
	if err := g.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadState(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the state file outlived Release: %v", err)
	}
	g2, err := Acquire(dir, "dev")
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	if err := g2.Release(); err != nil {
		t.Fatal(err)
	}
}

func TestStaleStateFileDoesNotBlockAStart(t *testing.T) {
	dir := t.TempDir()
	stale := `{"pid": 999999, "operator": "dev", "nats_url": "nats://127.0.0.1:1"}`
	if err := os.WriteFile(filepath.Join(dir, stateFile), []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := Acquire(dir, "dev")
	if err != nil {
		t.Fatalf("a state file nobody locks blocked Acquire: %v", err)
	}
	defer g.Release()
	st, err := ReadState(dir)
	if err != nil || st.PID != os.Getpid() || st.NATSURL != "" {
		t.Fatalf("state after Acquire: %+v %v", st, err)
	}
}
