package dev_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
)

var consoleLine = regexp.MustCompile(`Web console: +(http://127\.0\.0\.1:\d+)(/login\?token=\S+)`)

// TestDevBannerOpensTheWebConsoleOnce: the banner's console URL logs a browser in, shows the
// dev operator's demo account, and its token does not work a second time.
func TestDevBannerOpensTheWebConsoleOnce(t *testing.T) {
	e := &env{t: t, home: t.TempDir()}
	p := e.startDev(freePort(t), freePort(t))
	m := consoleLine.FindStringSubmatch(p.banner)
	if m == nil {
		t.Fatalf("no web console URL in the banner:\n%s", p.banner)
	}
	base, login := m[1], m[2]
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.Get(base + login)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Operator") {
		t.Fatalf("console after login: %d\n%s", resp.StatusCode, body)
	}
	resp, err = client.Get(base + "/accounts")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "SYS") {
		t.Errorf("accounts page of dev's operator:\n%s", body)
	}
	resp, err = http.Get(base + login)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("the banner's token a second time: %d, want 403", resp.StatusCode)
	}
	p.stop(t)
}
