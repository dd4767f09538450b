package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/signet-dev/signet/console"
)

// TestConsoleShowsABearerUserAsTheServerReadsIt: a user signed by a scoped signing key whose
// template says --bearer is a bearer user to nats-server (ops.IsBearerUser), though its own JWT
// says nothing of bearer: the account page marks it bearer and its page says "Bearer token
// yes"; a plain user is marked neither.
func TestConsoleShowsABearerUserAsTheServerReadsIt(t *testing.T) {
	t.Parallel()
	e, s, ks := fixture(t)
	e.MustRun("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "svc", "--bearer")
	e.MustRun("add", "user", "carol", "-a", "A", "-K", "svc")
	// dave's scope does not expand for him (no tag team, in a deny list): the server refuses him,
	// and he is a bearer user all the same; the page says so though it has no permissions to show.
	e.MustRun("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "team", "--bearer", "--deny-pub", "{{tag(team)}}.x")
	e.MustRun("add", "user", "dave", "-a", "A", "-K", "team")
	c, srv := serve(t, console.Options{Store: s, KeyStore: ks})
	b := newBrowser(t, srv)
	b.get(c.LoginPath())

	row := func(page, user string) string {
		t.Helper()
		i := strings.Index(page, `/users/`+user+`"`)
		if i < 0 {
			t.Fatalf("no row for user %s", user)
		}
		return page[i : i+strings.Index(page[i:], "</tr>")]
	}
	code, page := b.get("/accounts/A")
	if code != http.StatusOK {
		t.Fatalf("GET /accounts/A: %d", code)
	}
	if r := row(page, "carol"); !strings.Contains(r, `<span class="pill">bearer</span>`) {
		t.Errorf("carol, a bearer user through its scope, is not marked bearer: %s", r)
	}
	if r := row(page, "alice"); strings.Contains(r, "bearer") {
		t.Errorf("alice is marked bearer: %s", r)
	}
	for user, want := range map[string]string{"carol": "yes", "dave": "yes", "alice": "no"} {
		_, page := b.get("/accounts/A/users/" + user)
		if !strings.Contains(page, "<th>Bearer token</th><td>"+want+"</td>") {
			t.Errorf("user page of %s does not say Bearer token %s", user, want)
		}
	}
}
