package devstack

import (
	"net"
	"strconv"
	"testing"
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
