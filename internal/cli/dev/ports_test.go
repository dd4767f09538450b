package dev_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/cli/clitest"
)

func takePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

func TestDevWithATakenPortFailsAtOnceAndCreatesNoOperator(t *testing.T) {
	t.Parallel()
	for _, flag := range []string{"--nats-port", "--http-port"} {
		t.Run(flag, func(t *testing.T) {
			e := clitest.New(t, cli.NewRootCmd)
			taken, free := takePort(t), freePort(t)
			natsPort, httpPort := taken, free
			if flag == "--http-port" {
				natsPort, httpPort = free, taken
			}
			began := time.Now()
			msg := e.MustFail("dev", "--nats-port", fmt.Sprint(natsPort), "--http-port", fmt.Sprint(httpPort))
			if !strings.Contains(msg, fmt.Sprintf("%s %d", flag, taken)) || !strings.Contains(msg, "address in use") {
				t.Fatalf("dev with %s taken said %q", flag, msg)
			}
			if d := time.Since(began); d > 5*time.Second {
				t.Fatalf("dev took %s to report a taken port", d)
			}
			if _, err := os.Stat(e.StoresDir()); !os.IsNotExist(err) {
				t.Fatalf("a failed dev touched the store: %v", err)
			}
		})
	}
}

func TestDevWithATakenPortLeavesTheOperatorsURLsAlone(t *testing.T) {
	t.Parallel()
	for _, flag := range []string{"--nats-port", "--http-port"} {
		t.Run(flag, func(t *testing.T) {
			e := clitest.New(t, cli.NewRootCmd)
			e.MustRun("add", "operator", "dev", "--sys")
			e.MustRun("edit", "operator", "--account-jwt-server-url", "http://127.0.0.1:1/jwt/v1", "--service-url", "nats://127.0.0.1:2")
			jwtPath := filepath.Join(e.StoresDir(), "dev", "dev.jwt")
			before, err := os.ReadFile(jwtPath)
			if err != nil {
				t.Fatal(err)
			}
			taken, free := takePort(t), freePort(t)
			natsPort, httpPort := taken, free
			if flag == "--http-port" {
				natsPort, httpPort = free, taken
			}
			msg := e.MustFail("dev", "--nats-port", fmt.Sprint(natsPort), "--http-port", fmt.Sprint(httpPort))
			if !strings.Contains(msg, flag) || !strings.Contains(msg, "address in use") {
				t.Fatalf("dev with %s taken said %q", flag, msg)
			}
			after, err := os.ReadFile(jwtPath)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Fatal("a dev that could not listen rewrote the operator JWT")
			}
		})
	}
}
