package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/signet-dev/signet/console"
)

func TestEveryPageIsRefusedWithoutASession(t *testing.T) {
	t.Parallel()
	_, s, ks := fixture(t)
	_, srv := serve(t, console.Options{Store: s, KeyStore: ks})
	b := newBrowser(t, srv)
	for _, p := range []string{"/", "/accounts", "/accounts/A", "/accounts/A/users/alice", "/graph", "/history", "/static/style.css", "/accounts/A/users/new"} {
		if code, body := b.get(p); code != http.StatusUnauthorized || strings.Contains(body, "alice") {
			t.Errorf("GET %s without a session: %d %q, want 401 and nothing shown", p, code, body)
		}
	}
	if code, _ := b.get("/login?token=wrong"); code != http.StatusForbidden {
		t.Errorf("a wrong token: %d, want 403", code)
	}
	if code, _ := b.get("/accounts"); code != http.StatusUnauthorized {
		t.Errorf("after a wrong token: %d, want 401", code)
	}
}

func TestTheTokenOpensOneSessionOnce(t *testing.T) {
	t.Parallel()
	_, s, ks := fixture(t)
	c, srv := serve(t, console.Options{Store: s, KeyStore: ks})
	b := newBrowser(t, srv)
	code, _ := b.get(c.LoginPath())
	if code != http.StatusSeeOther {
		t.Fatalf("login: %d, want a redirect", code)
	}
	u, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	cookies := b.client.Jar.Cookies(u.URL)
	if len(cookies) != 1 {
		t.Fatalf("cookies after login: %v", cookies)
	}
	if code, body := b.get("/accounts/A"); code != http.StatusOK || !strings.Contains(body, "alice") {
		t.Errorf("account page in the session: %d", code)
	}
	other := newBrowser(t, srv)
	if code, _ := other.get(c.LoginPath()); code != http.StatusForbidden {
		t.Errorf("the token used a second time: %d, want 403", code)
	}
	if code, _ := other.get("/accounts/A"); code != http.StatusUnauthorized {
		t.Errorf("a second browser: %d, want 401", code)
	}
}

func TestTheSessionCookieIsHttpOnlyAndSameSiteStrict(t *testing.T) {
	t.Parallel()
	_, s, ks := fixture(t)
	c, srv := serve(t, console.Options{Store: s, KeyStore: ks})
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(srv.URL + c.LoginPath())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ck := resp.Cookies()
	if len(ck) != 1 || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie = %+v, want one HttpOnly SameSite=Strict cookie", ck)
	}
}

func TestPagesRenderTheStore(t *testing.T) {
	t.Parallel()
	_, s, ks := fixture(t)
	c, srv := serve(t, console.Options{Store: s, KeyStore: ks})
	b := newBrowser(t, srv)
	b.get(c.LoginPath())
	for path, want := range map[string][]string{
		"/":                       {"Operator", "SYS", "Signing keys"},
		"/accounts":               {"A", "B", "SYS"},
		"/accounts?q=b":           {"B"},
		"/accounts/A":             {"alice", "bob", "help.&gt;", "imported by", "/accounts/B", "2 users</span>"},
		"/accounts/A?q=alice":     {"1 of 2 users</span>"},
		"/accounts/SYS":           {"1 user</span>"},
		"/accounts/B":             {"help.&gt;", "/accounts/A"},
		"/accounts/A/users/alice": {"Effective permissions", "Download creds", "Revoke"},
		"/graph":                  {"<svg", "/graph?account=A", "flow service"},
		"/graph?account=A":        {"<svg", "2 users"},
		"/history":                {"Chain verified", "created user <b>alice</b>"},
	} {
		code, body := b.get(path)
		if code != http.StatusOK && code != http.StatusSeeOther {
			t.Errorf("GET %s: %d %s", path, code, body)
			continue
		}
		for _, w := range want {
			if !strings.Contains(strings.ToLower(body), strings.ToLower(w)) {
				t.Errorf("GET %s lacks %q", path, w)
			}
		}
	}
}
