package cmdutil

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
)

func refusedErr(t *testing.T) error {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = http.Get("http://" + addr + "/jwt/v1/accounts/A")
	if err == nil {
		t.Fatal("a closed port answered")
	}
	return err
}

func TestRefusedHintSuggestsDevOnThisMachineAndNamesTheURLElsewhere(t *testing.T) {
	err := refusedErr(t)
	if !Refused(err) || !Refused(fmt.Errorf("push: %w", err)) {
		t.Fatalf("Refused(%v) = false", err)
	}
	if Refused(errors.New("403 Forbidden")) || Refused(nil) {
		t.Fatal("a refusal by the server counted as nothing listening")
	}
	for u, dev := range map[string]bool{
		"http://127.0.0.1:9090/jwt/v1":            true,
		"http://localhost:9090/jwt/v1":            true,
		"nats://[::1]:4222":                       true,
		"nats://127.0.0.1:4222,nats://other:4222": true,
		"https://accounts.example.com/jwt/v1":     false,
		"nats://10.1.2.3:4222":                    false,
	} {
		h := RefusedHint(u)
		if !strings.Contains(h, "nothing is listening at "+u) || strings.Contains(h, "signet dev") != dev {
			t.Errorf("RefusedHint(%q) = %q", u, h)
		}
	}
	wrapped := WithRefusedHint(err, "http://127.0.0.1:9090/jwt/v1")
	if !errors.Is(wrapped, err) || !strings.Contains(wrapped.Error(), "start `signet dev`") {
		t.Fatalf("WithRefusedHint: %v", wrapped)
	}
	other := errors.New("403 Forbidden")
	if WithRefusedHint(other, "http://127.0.0.1:9090/jwt/v1") != other {
		t.Fatal("WithRefusedHint changed an error that is not a refusal")
	}
}
